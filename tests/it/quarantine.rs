//! The rejected-signature quarantine as a seller lives it: the key changed in the store but not
//! in the bot, sales are refused and kept apart (never counted, never announced), the key is
//! fixed, and `replay-rejected` takes each sale in once, however often it runs.

use integrations_bot::config::{Config, Secret};
use integrations_bot::quarantine::{replay, Replayed};

use crate::support::discord::{FakeDiscord, Target};
use crate::support::*;

const PATH: &str = "/webhook/payhip";
const SALES: u64 = 1001;
const OLD_KEY: &str = "the-key-before-the-seller-changed-it";

fn sales_channel(c: &mut Config) {
    c.discord_config.sales_channel_id = Some(SALES);
}

/// The app on `url` with the bot token, pointed at `discord`, holding `key` as Payhip's key.
async fn app_on(
    dir: tempfile::TempDir,
    url: &str,
    discord: &FakeDiscord,
    key: &str,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    let key = key.to_owned();
    let base = discord.base();
    TestApp::start_with(
        dir,
        url,
        |c| {
            sales_channel(c);
            configure(c);
        },
        move |env| {
            env.secrets.payhip_api_key = Some(Secret::new(key));
            env.secrets.discord_token = Some(Secret::new("fake-bot-token"));
            env.discord_api_base = Some(base);
        },
    )
    .await
}

async fn kept(app: &TestApp) -> Vec<integrations_bot::db::RejectedBody> {
    app.store().rejected_bodies().await.unwrap()
}

#[tokio::test]
async fn a_key_fixed_after_twenty_refused_sales_takes_each_in_once() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    // The bot still has the old key; Payhip signs with the new one (PAYHIP_KEY).
    let app = app_on(dir, &url, &discord, OLD_KEY, |_| {}).await;
    for i in 0..20 {
        let (status, _) = app.post(PATH, payhip_sale(&format!("TX-{i}"))).await;
        assert_eq!(status, 401, "refused: the bot has the old key");
    }
    assert_eq!(kept(&app).await.len(), 20, "every refused sale kept apart");
    assert_eq!(app.store().table_counts().await.unwrap().sales, 0);
    for body in kept(&app).await {
        let text = String::from_utf8_lossy(&body.body).into_owned();
        assert!(
            !text.contains(&payhip_signature(PAYHIP_KEY)),
            "the new key's signature is not kept: it would let a reader forge webhooks"
        );
    }
    let dir = app.stop().await;
    assert!(
        discord.messages().is_empty(),
        "nothing refused is announced"
    );

    // The seller sets the new key and restarts; replay runs twice (say, CLI and slash command).
    let app = app_on(dir, &url, &discord, PAYHIP_KEY, |_| {}).await;
    let first = replay(&app.running.state).await.unwrap();
    assert_eq!(
        first,
        Replayed {
            taken_in: 20,
            already_stored: 0,
            still_refused: 0
        }
    );
    let second = replay(&app.running.state).await.unwrap();
    assert_eq!(second, Replayed::default(), "nothing left to replay");
    let sales = Target::Channel(SALES);
    discord.wait_for_sales_to(&sales, 20, WAIT).await;
    settled(app.store(), WAIT).await;
    let mut announced = discord.sale_ids_to(&sales);
    announced.sort();
    let mut expected: Vec<String> = (0..20).map(|i| format!("TX-{i}")).collect();
    expected.sort();
    assert_eq!(announced, expected, "each sale announced once");
    assert_eq!(app.store().table_counts().await.unwrap().sales, 20);
    assert!(kept(&app).await.is_empty());
    // The store's own retry of a replayed sale is a duplicate, not a second sale.
    let (status, _) = app.post(PATH, payhip_sale("TX-3")).await;
    assert_eq!(status, 200);
    settled(app.store(), WAIT).await;
    assert_eq!(app.store().table_counts().await.unwrap().sales, 20);
    assert_eq!(discord.sale_ids_to(&sales).len(), 20);
    app.stop().await;
}

#[tokio::test]
async fn a_body_signed_with_neither_key_stays_refused_and_kept() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let app = app_on(dir, &url, &discord, PAYHIP_KEY, |_| {}).await;
    let forged = String::from_utf8(payhip_sale("FORGED"))
        .unwrap()
        .replace(&payhip_signature(PAYHIP_KEY), &payhip_signature("a guess"));
    let (status, _) = app.post(PATH, forged).await;
    assert_eq!(status, 401);
    let done = replay(&app.running.state).await.unwrap();
    assert_eq!(done.still_refused, 1);
    assert_eq!(kept(&app).await.len(), 1);
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    // Junk that is not a Payhip event is not kept at all.
    let (status, answer) = app
        .post(PATH, r#"{"type":"paid","signature":"nope"}"#)
        .await;
    assert_eq!(status, 401, "{answer}");
    assert_eq!(kept(&app).await.len(), 1);
    app.stop().await;
    assert!(discord.messages().is_empty());
}

#[tokio::test]
async fn the_quarantine_keeps_the_newest_within_its_count_and_bytes() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let size = payhip_sale("TX-0").len();
    let app = app_on(dir, &url, &discord, OLD_KEY, |c| {
        c.webhook_config.rejected_bodies_kept = 5;
    })
    .await;
    for i in 0..8 {
        app.post(PATH, payhip_sale(&format!("TX-{i}"))).await;
    }
    let ids: Vec<_> = kept(&app).await.iter().map(|b| b.id).collect();
    assert_eq!(ids.len(), 5, "count bound");
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let dir = app.stop().await;

    // Room for three bodies (sealing does not change a sale's size by much).
    let app = app_on(dir, &url, &discord, OLD_KEY, |c| {
        c.webhook_config.rejected_bytes_kept = size * 3 + size / 2;
    })
    .await;
    app.post(PATH, payhip_sale("TX-8")).await;
    let left = kept(&app).await;
    assert_eq!(left.len(), 3, "bytes bound");
    assert!(left.iter().map(|b| b.body.len()).sum::<usize>() <= size * 3 + size / 2);
    assert!(
        String::from_utf8_lossy(&left[2].body).contains("TX-8"),
        "the newest is kept"
    );
    // A body larger than the whole budget is not kept (and evicts nothing).
    let big = payhip_sale_with("TX-BIG", |v| {
        v["items"][0]["product_name"] = serde_json::Value::String("x".repeat(size * 4));
    });
    app.post(PATH, big).await;
    assert_eq!(kept(&app).await.len(), 3);
    app.stop().await;
}

/// Posts `body` to `path` with one header.
async fn post_signed(app: &TestApp, path: &str, header: (&str, &str), body: Vec<u8>) -> u16 {
    let mut request = axum::http::Request::post(path);
    if header.0 != "content-type" {
        request = request.header("content-type", "application/json");
    }
    let request = request
        .header(header.0, header.1)
        .body(axum::body::Body::from(body))
        .unwrap();
    app.oneshot(request).await.0.as_u16()
}

#[tokio::test]
async fn header_signed_stores_are_replayed_too_and_stripe_against_its_arrival_time() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let wrong = |env: &mut integrations_bot::config::Environment| {
        env.secrets.xsolla_secret_key = Some(Secret::new("old-xsolla"));
        for name in ["STRIPE_WEBHOOK_SECRET", "LEMONSQUEEZY_SIGNING_SECRET"] {
            env.secrets.stores.set(name, Some(Secret::new("old")));
        }
    };
    let app = TestApp::start_with(dir, &url, sales_channel, wrong).await;
    let (body, auth) = xsolla_signed("order_paid");
    assert_eq!(
        post_signed(&app, "/webhook/xsolla", ("authorization", &auth), body).await,
        400
    );
    let (body, sig) = stripe_signed("checkout_session_completed");
    assert_eq!(
        post_signed(&app, "/webhook/stripe", ("stripe-signature", &sig), body).await,
        401
    );
    let (body, sig) = lemonsqueezy_signed("order_created");
    assert_eq!(
        post_signed(&app, "/webhook/lemonsqueezy", ("x-signature", &sig), body).await,
        401
    );
    assert_eq!(kept(&app).await.len(), 3);
    assert_eq!(app.store().table_counts().await.unwrap().sales, 0);
    let dir = app.stop().await;

    let app = app_on(dir, &url, &discord, PAYHIP_KEY, |_| {}).await;
    // An hour later: Stripe's five minutes are counted from when the event first arrived.
    app.advance(std::time::Duration::from_secs(3600));
    let done = replay(&app.running.state).await.unwrap();
    assert_eq!(done.taken_in, 3, "{done:?}");
    assert_eq!(app.store().table_counts().await.unwrap().sales, 3);
    discord
        .wait_for_sales_to(&Target::Channel(SALES), 3, WAIT)
        .await;
    app.stop().await;
}

/// `integrations-bot replay-rejected` in the bot's folder, with `key` as Payhip's key.
fn replay_command(dir: &std::path::Path, url: &str, key: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("PAYHIP_API_KEY", key)
        .arg("replay-rejected")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn replay_rejected_on_the_command_line_takes_a_sale_in_once() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let app = app_on(dir, &url, &discord, OLD_KEY, |_| {}).await;
    assert_eq!(app.post(PATH, payhip_sale("TX-CLI")).await.0, 401);
    let dir = app.stop().await;
    // Where notices go is decided as the sale is taken in: from the seller's config.
    let config = format!(r#"{{"discordConfig": {{"salesChannelId": "{SALES}"}}}}"#);
    std::fs::write(dir.path().join("config.json"), config).unwrap();

    let still_old = replay_command(dir.path(), &url, OLD_KEY);
    assert!(
        still_old.contains("0 taken in, 0 already stored, 1 still refused"),
        "{still_old}"
    );
    let fixed = replay_command(dir.path(), &url, PAYHIP_KEY);
    assert!(
        fixed.contains("1 taken in, 0 already stored, 0 still refused"),
        "{fixed}"
    );
    let again = replay_command(dir.path(), &url, PAYHIP_KEY);
    assert!(
        again.contains("0 taken in, 0 already stored, 0 still refused"),
        "{again}"
    );

    // The bot, started again, announces the sale once.
    let app = app_on(dir, &url, &discord, PAYHIP_KEY, |_| {}).await;
    discord
        .wait_for_sales_to(&Target::Channel(SALES), 1, WAIT)
        .await;
    settled(app.store(), WAIT).await;
    assert_eq!(discord.sale_ids_to(&Target::Channel(SALES)), ["TX-CLI"]);
    assert_eq!(app.store().table_counts().await.unwrap().sales, 1);
    app.stop().await;
}

#[tokio::test]
async fn staff_replay_from_discord_with_the_slash_command() {
    use crate::commands::{connected_bot, run};
    use integrations_bot::providers::Provider;
    let bot = connected_bot().await;
    // A sale refused before the key was fixed, as the quarantine kept it.
    let payhip = integrations_bot::providers::payhip::Payhip::new(Some(&Secret::new("old")));
    let now = chrono::Utc::now();
    let sealed = payhip
        .quarantine(&Default::default(), &payhip_sale("TX-SLASH"), now)
        .unwrap();
    let row = integrations_bot::db::RejectedBody {
        id: 0,
        provider: "payhip".into(),
        headers: "[]".into(),
        body: sealed.body,
        received_at: now.timestamp_millis(),
    };
    bot.app
        .store()
        .keep_rejected(&row, 10, 1 << 20)
        .await
        .unwrap();

    let first = run(&bot, 1, "replay-rejected", serde_json::json!([])).await;
    let text = first.body["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("1 taken in, 0 already stored, 0 still refused"),
        "{}",
        first.body
    );
    let again = run(&bot, 2, "replay-rejected", serde_json::json!([])).await;
    let text = again.body["content"].as_str().unwrap_or_default();
    assert!(text.contains("0 taken in"), "{}", again.body);
    assert_eq!(bot.app.store().table_counts().await.unwrap().sales, 1);
    bot.app.stop().await;
}

#[tokio::test]
async fn token_stores_keep_their_new_token_only_sealed_and_are_replayed_with_it() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let old = |env: &mut integrations_bot::config::Environment| {
        for name in ["GUMROAD_WEBHOOK_TOKEN", "KOFI_VERIFICATION_TOKEN"] {
            env.secrets
                .stores
                .set(name, Some(Secret::new("the-old-token")));
        }
    };
    let app = TestApp::start_with(dir, &url, sales_channel, old).await;
    let form = "application/x-www-form-urlencoded";
    let gumroad = format!("/webhook/gumroad?token={GUMROAD_TOKEN}");
    let status = post_signed(&app, &gumroad, ("content-type", form), gumroad_form("sale")).await;
    assert_eq!(status, 401);
    let kofi = kofi_form("shop_order", KOFI_TOKEN);
    assert_eq!(
        post_signed(&app, "/webhook/kofi", ("content-type", form), kofi).await,
        401
    );
    let kept_rows = kept(&app).await;
    let which: Vec<_> = kept_rows.iter().map(|r| r.provider.clone()).collect();
    assert_eq!(kept_rows.len(), 2, "{which:?}");
    for row in &kept_rows {
        let all = format!("{} {}", row.headers, String::from_utf8_lossy(&row.body));
        assert!(
            !all.contains(GUMROAD_TOKEN) && !all.contains(KOFI_TOKEN),
            "{all}"
        );
    }
    let dir = app.stop().await;

    let app = app_on(dir, &url, &discord, PAYHIP_KEY, |_| {}).await;
    let done = replay(&app.running.state).await.unwrap();
    assert_eq!(done.taken_in, 2, "{done:?}");
    assert!(kept(&app).await.is_empty());
    assert_eq!(
        replay(&app.running.state).await.unwrap(),
        Replayed::default()
    );
    discord
        .wait_for_sales_to(&Target::Channel(SALES), 2, WAIT)
        .await;
    app.stop().await;
}
