//! Notices as a seller sees them in Discord: the real app pointed at a fake Discord on loopback.

use std::time::Duration;

use integrations_bot::config::{Config, Secret};
use serde_json::Value;

use crate::support::discord::{FakeDiscord, Scripted, Target};
use crate::support::*;

const PATH: &str = "/webhook/payhip";
const SALES: u64 = 1001;
const REFUNDS: u64 = 1002;
const SUBS: u64 = 1003;
const HOOK: &str = "https://discord.com/api/webhooks/555/hook-token_1";

fn channels(c: &mut Config) {
    c.discord_config.sales_channel_id = Some(SALES);
    c.discord_config.refunds_channel_id = Some(REFUNDS);
    c.discord_config.subscriptions_channel_id = Some(SUBS);
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

/// The fake sees a message just before the bot records it as delivered.
async fn all_delivered(app: &TestApp, n: i64) {
    let store = app.store().clone();
    eventually("every notice to be marked delivered", WAIT, || {
        let store = store.clone();
        async move {
            store
                .outbox_counts()
                .await
                .map(|c| c.delivered == n && c.pending == 0)
                .unwrap_or(false)
        }
    })
    .await;
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body["embeds"][0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name} in {body}"))
}

#[tokio::test]
async fn each_event_type_posts_one_correct_message_to_its_channel() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |c| {
        c.embed_colors.refund = integrations_bot::config::Color(0x123456)
    })
    .await;
    for name in PAYHIP_EVENTS {
        let (status, body) = app.post(PATH, payhip_signed(name)).await;
        assert_eq!(status, 200, "{body}");
    }
    let mut posted = discord.wait_for_notices(4, WAIT).await;
    posted.sort_by_key(|p| {
        p.body["embeds"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    let summary: Vec<(Target, &str)> = posted
        .iter()
        .map(|p| {
            (
                p.target.clone(),
                p.body["embeds"][0]["title"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Target::Channel(SALES), "New Sale Completed"),
            (Target::Channel(SUBS), "New Subscription Created"),
            (Target::Channel(REFUNDS), "Refund Issued"),
            (Target::Channel(SUBS), "Subscription Canceled"),
        ]
    );
    let sale = &posted[0].body;
    assert_eq!(sale["embeds"][0]["color"], 0x00FF00);
    assert_eq!(field(sale, "Total"), "$29.99");
    assert_eq!(field(sale, "You keep"), "$27.32 (fees $2.67)");
    assert!(field(sale, "Products").contains("Pixel Art Course (Lifetime) ×1 (SALE)"));
    assert!(field(sale, "Coupon").contains("LAUNCH20"));
    assert_eq!(field(sale, "Customer"), "Hidden for privacy");
    assert_eq!(sale["embeds"][0]["footer"]["text"], "Payhip");
    assert_eq!(sale["allowed_mentions"]["parse"], serde_json::json!([]));
    assert_eq!(posted[2].body["embeds"][0]["color"], 0x123456);
    assert!(posted
        .iter()
        .all(|p| !p.body.to_string().contains("buyer.one@example.com")));

    all_delivered(&app, 4).await;
    let rows = app.store().outbox_rows().await.unwrap();
    assert!(
        rows.iter().all(|r| r.discord_message_id.is_some()),
        "{rows:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_switched_off_type_is_stored_but_not_posted() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |c| c.payhip_config.event_types.refund = false).await;
    app.post(PATH, payhip_signed("refunded")).await;
    app.post(PATH, payhip_signed("paid")).await;
    let posted = discord.wait_for_messages(1, WAIT).await;
    assert_eq!(posted[0].target, Target::Channel(SALES));
    assert_eq!(
        app.store().table_counts().await.unwrap().refunds,
        1,
        "the refund is still recorded"
    );
    assert_eq!(
        app.store().outbox_rows().await.unwrap().len(),
        1,
        "no notice was queued for it"
    );
    app.stop().await;
    assert_eq!(discord.messages().len(), 1);
}

#[tokio::test]
async fn templates_render_into_the_content_and_webhook_urls_receive_too() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |c| {
        c.notifications.new_sale.message =
            Some("New order %id%: %price% via %paymentType% %unknown%".into());
        c.notifications.new_sale.webhook_urls = vec![HOOK.into()];
    })
    .await;
    app.post(PATH, payhip_signed("paid")).await;
    let posted = discord.wait_for_messages(2, WAIT).await;
    let targets: Vec<_> = posted.iter().map(|p| p.target.clone()).collect();
    assert!(targets.contains(&Target::Channel(SALES)), "{targets:?}");
    assert!(
        targets.contains(&Target::Webhook {
            id: 555,
            token: "hook-token_1".into()
        }),
        "{targets:?}"
    );
    for p in &posted {
        assert_eq!(
            p.body["content"],
            "New order PH-TX-1001: $29.99 via Stripe (card) %unknown%"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_the_message_posted_once() {
    let discord = FakeDiscord::start().await;
    discord.script([Scripted::RateLimited { retry_after: 0.4 }]);
    let app = app_with(&discord, |_| {}).await;
    app.post(PATH, payhip_signed("paid")).await;
    discord.wait_for_messages(1, WAIT).await;
    let requests: Vec<_> = discord
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/channels/"))
        .collect();
    let limited = requests
        .iter()
        .find(|r| r.status == 429)
        .expect("a 429 was answered");
    let success = requests
        .iter()
        .find(|r| r.status == 200)
        .expect("then a success");
    assert!(
        success.at.duration_since(limited.at) >= Duration::from_millis(400),
        "retried after {:?}, before retry_after",
        success.at.duration_since(limited.at)
    );
    app.stop().await;
    assert_eq!(discord.messages().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_until_one_message_is_posted() {
    let discord = FakeDiscord::start().await;
    discord.script((0..5).map(|_| Scripted::Status(500)));
    let app = app_with(&discord, |_| {}).await;
    app.post(PATH, payhip_signed("paid")).await;
    discord.wait_for_messages(1, WAIT).await;
    assert_eq!(
        discord
            .requests()
            .iter()
            .filter(|r| r.status == 500)
            .count(),
        5
    );
    app.stop().await;
    assert_eq!(discord.messages().len(), 1);
}

#[tokio::test]
async fn a_thirty_second_outage_is_outlasted() {
    let discord = FakeDiscord::start().await;
    discord.set_down(true);
    let app = app_with(&discord, |c| {
        c.delivery.initial_backoff_ms = 200;
        c.delivery.max_backoff_ms = 2_000;
        c.delivery.max_attempts = 100;
        c.delivery.lease_seconds = 15;
    })
    .await;
    app.post(PATH, payhip_signed("paid")).await;
    discord.wait_for_requests(1, WAIT).await;
    // Thirty seconds of outage on the app's clock, two at a time (the backoff's cap).
    app.ride_out(&discord, Duration::from_secs(30), Duration::from_secs(2))
        .await;
    assert!(discord.messages().is_empty());
    discord.set_down(false);
    app.advance(Duration::from_secs(2));
    discord.wait_for_messages(1, WAIT).await;
    all_delivered(&app, 1).await;
    app.stop().await;
    assert_eq!(discord.messages().len(), 1);
}

#[tokio::test]
async fn a_missing_permission_is_dead_lettered_at_once_with_a_reason() {
    let discord = FakeDiscord::start().await;
    discord.script([Scripted::Status(403)]);
    let app = app_with(&discord, |_| {}).await;
    app.post(PATH, payhip_signed("paid")).await;
    let store = app.store().clone();
    eventually("the notice to be dead-lettered", WAIT, || {
        let store = store.clone();
        async move {
            store
                .outbox_counts()
                .await
                .map(|c| c.dead == 1)
                .unwrap_or(false)
        }
    })
    .await;
    let rows = store.outbox_rows().await.unwrap();
    let reason = rows[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("permission") && reason.contains(&SALES.to_string()),
        "{reason}"
    );
    assert_eq!(rows[0].attempts, 1);
    app.stop().await;
    assert!(discord.messages().is_empty());
}

#[tokio::test]
async fn the_same_webhook_twice_gives_one_message() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |_| {}).await;
    app.post(PATH, payhip_signed("paid")).await;
    app.post(PATH, payhip_signed("paid")).await;
    app.post(PATH, payhip_signed("subscription_created")).await;
    // The subscription was accepted last; once its notice is out, the duplicate had its chance.
    discord.wait_for_messages(2, WAIT).await;
    app.stop().await;
    let sales = discord
        .messages()
        .iter()
        .filter(|m| m.target == Target::Channel(SALES))
        .count();
    assert_eq!(sales, 1);
}

#[tokio::test]
async fn without_a_token_channel_notices_are_previewed_and_webhook_urls_still_posted() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let base = discord.base();
    let app = TestApp::start_with(
        dir,
        &url,
        |c| {
            channels(c);
            c.notifications.new_sale.webhook_urls = vec![HOOK.into()];
        },
        |env| env.discord_api_base = Some(base),
    )
    .await;
    app.post(PATH, payhip_signed("paid")).await;
    let posted = discord.wait_for_messages(1, WAIT).await;
    assert!(matches!(posted[0].target, Target::Webhook { id: 555, .. }));
    let store = app.store().clone();
    eventually("the channel notice to be previewed", WAIT, || {
        let store = store.clone();
        async move {
            store
                .outbox_counts()
                .await
                .map(|c| c.preview == 1)
                .unwrap_or(false)
        }
    })
    .await;
    app.stop().await;
    assert!(discord
        .requests()
        .iter()
        .all(|r| !r.path.contains("/channels/")));
}

#[tokio::test]
async fn signed_simulations_are_posted_as_tests_and_unsigned_tests_are_not() {
    let discord = FakeDiscord::start().await;
    let app = app_with(&discord, |_| {}).await;
    let mut unsigned = fixture("payhip/paid.json");
    unsigned["signature"] = Value::String("test".into());
    app.post(PATH, serde_json::to_vec(&unsigned).unwrap()).await;
    let sample = integrations_bot::providers::payhip::sample(
        "paid",
        &Secret::new(PAYHIP_KEY),
        chrono::Utc::now(),
    )
    .unwrap();
    app.post(PATH, serde_json::to_vec(&sample).unwrap()).await;
    let posted = discord.wait_for_messages(1, WAIT).await;
    assert_eq!(
        posted[0].body["embeds"][0]["title"],
        "[TEST] New Sale Completed"
    );
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!(
        (counts.sales, counts.test_events),
        (0, 1),
        "the unsigned test is answered, not kept"
    );
    assert_eq!(app.store().outbox_rows().await.unwrap().len(), 1);
    app.stop().await;
}
