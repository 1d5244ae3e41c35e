//! Alerts in the staff channel as a seller sees them: the first of a kind at once, then at most
//! one an hour with a count; never a secret or a buyer's email. Time is the app's driven clock.

use std::time::Duration;

use integrations_bot::alerts::{self, Alert};
use integrations_bot::config::Config;

use crate::support::discord::{FakeDiscord, Target};
use crate::support::*;

const PATH: &str = "/webhook/payhip";
const SALES: u64 = 1001;
const ALERTS: u64 = 9000;
const HOUR: Duration = Duration::from_secs(3600);

fn channels(c: &mut Config) {
    c.discord_config.sales_channel_id = Some(SALES);
    c.discord_config.alerts_channel_id = Some(ALERTS);
    c.delivery.initial_backoff_ms = 20;
    c.delivery.max_backoff_ms = 200;
}

async fn app_with(discord: &FakeDiscord, configure: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::with_discord(discord.base(), |c| {
        channels(c);
        configure(c);
    })
    .await
}

/// The texts posted in the alerts channel, once there are `n`.
async fn alerts_seen(discord: &FakeDiscord, n: usize) -> Vec<String> {
    discord
        .wait_for_messages_to(&Target::Channel(ALERTS), n, WAIT)
        .await;
    discord
        .messages_to(&Target::Channel(ALERTS))
        .iter()
        .map(|m| m.body["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A Payhip sale signed with a key the bot does not have.
fn wrongly_signed(id: &str) -> String {
    String::from_utf8(payhip_sale(id))
        .unwrap()
        .replace(&payhip_signature(PAYHIP_KEY), &payhip_signature("new key"))
}

/// Nothing a buyer or a secret wrote reaches the channel.
fn assert_clean(texts: &[String]) {
    for t in texts {
        assert!(!t.contains("buyer.one@example.com"), "{t}");
        assert!(!t.contains(&payhip_signature("new key")), "{t}");
        assert!(!t.contains(&payhip_signature(PAYHIP_KEY)), "{t}");
        assert!(!t.contains(PAYHIP_KEY), "{t}");
    }
}

#[tokio::test]
async fn signature_failures_alert_at_once_then_once_an_hour_with_their_count() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |_| {}).await;
    for i in 0..3 {
        assert_eq!(
            app.post(PATH, wrongly_signed(&format!("TX-{i}"))).await.0,
            401
        );
    }
    let seen = alerts_seen(&discord, 1).await;
    assert!(
        seen[0].contains("**Payhip**: a webhook failed the signature check"),
        "{}",
        seen[0]
    );
    assert!(seen[0].contains("/replay-rejected"));

    // The two held back are said an hour later, in one alert.
    app.advance(HOUR);
    alerts::check(&app.running.state);
    let seen = alerts_seen(&discord, 2).await;
    assert!(
        seen[1].contains("2 webhooks failed the signature check"),
        "{}",
        seen[1]
    );
    // Nothing held: nothing more, however often the watchdog looks.
    app.advance(HOUR);
    alerts::check(&app.running.state);
    app.running.state.alert(Alert::DatabaseRefused);
    let seen = alerts_seen(&discord, 3).await;
    assert!(seen[2].contains("database"), "{seen:?}");
    assert_clean(&seen);
    app.stop().await;
    assert_eq!(discord.messages_to(&Target::Channel(ALERTS)).len(), 3);
    assert!(discord.messages_to(&Target::Channel(SALES)).is_empty());
}

#[tokio::test]
async fn silence_is_said_once_per_silent_stretch() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |c| {
        c.discord_config.alert_after_silent_minutes = Some(30);
    })
    .await;
    app.advance(Duration::from_secs(29 * 60));
    alerts::check(&app.running.state);
    app.advance(Duration::from_secs(2 * 60));
    alerts::check(&app.running.state);
    let seen = alerts_seen(&discord, 1).await;
    assert!(
        seen[0].contains("No webhook has been received for 30 minutes"),
        "{}",
        seen[0]
    );
    app.advance(3 * HOUR);
    alerts::check(&app.running.state);

    // A sale ends the silence; the next stretch is said again.
    assert_eq!(app.post(PATH, payhip_sale("TX-1")).await.0, 200);
    discord
        .wait_for_messages_to(&Target::Channel(SALES), 1, WAIT)
        .await;
    assert_eq!(
        discord.messages_to(&Target::Channel(ALERTS)).len(),
        1,
        "said once"
    );
    app.advance(Duration::from_secs(31 * 60));
    alerts::check(&app.running.state);
    let seen = alerts_seen(&discord, 2).await;
    assert!(seen[1].contains("No webhook"));
    app.stop().await;
}

/// Renames a table, so that writes to it fail as on a database that refuses them.
async fn rename(app: &TestApp, from: &str, to: &str) {
    let url = app.running.state.settings().database_url.clone();
    let sql = format!("ALTER TABLE {from} RENAME TO {to}");
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query(&sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::query(&sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn a_database_refusing_writes_is_alerted_once_an_hour() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |_| {}).await;
    rename(&app, "events", "events_away").await;
    assert_eq!(app.post(PATH, payhip_sale("TX-1")).await.0, 503);
    let seen = alerts_seen(&discord, 1).await;
    assert!(
        seen[0].contains("The database is refusing to store webhooks"),
        "{}",
        seen[0]
    );
    assert_eq!(app.post(PATH, payhip_sale("TX-2")).await.0, 503);
    rename(&app, "events_away", "events").await;
    assert_eq!(app.post(PATH, payhip_sale("TX-3")).await.0, 200);
    discord
        .wait_for_messages_to(&Target::Channel(SALES), 1, WAIT)
        .await;
    assert_eq!(discord.messages_to(&Target::Channel(ALERTS)).len(), 1);
    app.advance(HOUR);
    alerts::check(&app.running.state);
    let seen = alerts_seen(&discord, 2).await;
    assert!(seen[1].contains("database"), "{}", seen[1]);
    assert_clean(&seen);
    app.stop().await;
}

#[tokio::test]
async fn a_channel_the_bot_may_not_post_in_alerts_its_permission_and_the_notice_given_up() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |_| {}).await;
    let refused = || crate::support::discord::Scripted::Status(403);
    discord.script_for(Target::Channel(SALES), [refused(), refused(), refused()]);
    assert_eq!(app.post(PATH, payhip_sale("TX-1")).await.0, 200);
    let mut seen = alerts_seen(&discord, 2).await;
    seen.sort();
    assert!(
        seen[0].contains("A notice could not be posted and was given up"),
        "{seen:?}"
    );
    assert!(
        seen[1].contains(&format!("permission to post in <#{SALES}>")),
        "{seen:?}"
    );

    // Two more refused within the hour: said together an hour later.
    // One at a time, so that each is its own message (a backlog would be sent as one).
    for id in ["TX-2", "TX-3"] {
        assert_eq!(app.post(PATH, payhip_sale(id)).await.0, 200);
        settled(app.store(), WAIT).await;
    }
    assert_eq!(discord.messages_to(&Target::Channel(ALERTS)).len(), 2);
    app.advance(HOUR);
    alerts::check(&app.running.state);
    let seen = alerts_seen(&discord, 4).await;
    let later: Vec<_> = seen[2..].iter().collect();
    assert!(
        later
            .iter()
            .all(|t| t.contains("(2 times since the last alert)")),
        "{later:?}"
    );
    assert_clean(&seen);
    app.stop().await;
}

#[tokio::test]
async fn a_relayed_store_alerts_its_signature_failures_and_keeps_nothing_apart() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |c| {
        // Never reached: a refused request is not passed on.
        c.xsolla_config.forward_url = Some("http://127.0.0.1:9/xsolla".into());
    })
    .await;
    let (body, _) = xsolla_signed("order_paid");
    let request = axum::http::Request::post("/webhook/xsolla")
        .header("authorization", "Signature 0000")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(app.oneshot(request).await.0, 400);
    let seen = alerts_seen(&discord, 1).await;
    assert!(
        seen[0].contains("**Xsolla**: a webhook failed"),
        "{}",
        seen[0]
    );
    assert!(!seen[0].contains("/replay-rejected"), "nothing to replay");
    assert!(app.store().rejected_bodies().await.unwrap().is_empty());
    app.stop().await;
}
