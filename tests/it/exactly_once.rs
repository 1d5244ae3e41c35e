//! Exactly once, promptly: claims that pass to another instance, and the running app against a
//! Discord that loses answers or rate-limits one destination for an hour.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use integrations_bot::config::{Config, Secret};
use integrations_bot::db::{NewEvent, Store};
use integrations_bot::providers::payhip::Payhip;
use integrations_bot::providers::Provider;

use crate::outbox_steps::{hook, HOOK, SALES};
use crate::support::discord::{FakeDiscord, Scripted, Target};
use crate::support::*;

const REFUNDS: u64 = 1002;

/// One stored sale with a notice for channel 1, written straight to the store.
async fn queued_notice(store: &Store) {
    let now = chrono::Utc::now();
    let body = payhip_signed("paid");
    let event = Payhip::new(Some(&Secret::new(PAYHIP_KEY)))
        .parse(&HeaderMap::new(), &body, now)
        .unwrap();
    let new = NewEvent {
        event,
        raw: String::from_utf8(body).unwrap(),
        received_at: now,
        destinations: vec!["channel:1".into()],
        not_counted: None,
    };
    store.insert_batch(&[&new]).await.unwrap();
}

#[tokio::test]
async fn a_claim_taken_over_after_its_lease_can_no_longer_post() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&fresh_database_url(dir.path()).await)
        .await
        .unwrap();
    queued_notice(&store).await;
    let t = integrations_bot::db::now_millis();
    let first = store.claim_due("a-1", t, t + 15_000, 64).await.unwrap();
    assert_eq!(first.len(), 1);
    let id = first[0].id;
    assert!(
        store
            .claim_due("b-1", t + 14_000, t + 29_000, 64)
            .await
            .unwrap()
            .is_empty(),
        "nobody else may claim it during the lease"
    );
    store.renew_claim("a-1", t + 30_000).await.unwrap();
    assert!(
        store
            .claim_due("b-2", t + 20_000, t + 35_000, 64)
            .await
            .unwrap()
            .is_empty(),
        "a renewed lease holds past its first expiry"
    );
    let taken = store
        .claim_due("b-3", t + 31_000, t + 46_000, 64)
        .await
        .unwrap();
    assert_eq!(taken.len(), 1, "a lapsed lease is taken over");
    assert!(
        !begin(&store, id, "a-1", t + 47_000).await,
        "the first claimer is refused at its re-check"
    );
    assert!(begin(&store, id, "b-3", t + 47_000).await);
    store.close().await;
}

#[tokio::test]
async fn a_running_bot_that_loses_a_webhook_answer_posts_no_second_copy() {
    let discord = FakeDiscord::start().await;
    discord.script_for(hook(), [Scripted::Lost]);
    let app = TestApp::with_discord(discord.base(), |c: &mut Config| {
        c.notifications.new_sale.webhook_urls = vec![HOOK.into()];
        c.delivery.initial_backoff_ms = 20;
        c.delivery.max_backoff_ms = 200;
    })
    .await;
    app.post("/webhook/payhip", payhip_signed("paid")).await;
    let store = app.store().clone();
    eventually("the notice to be marked delivered", WAIT, || {
        let store = store.clone();
        async move { store.outbox_counts().await.is_ok_and(|c| c.delivered == 1) }
    })
    .await;
    app.stop().await;
    assert_eq!(discord.messages_to(&hook()).len(), 1);
}

#[tokio::test]
async fn an_hour_long_rate_limit_on_one_channel_delays_no_other_destination() {
    let discord = FakeDiscord::start().await;
    discord.script_for(
        Target::Channel(SALES),
        [Scripted::RateLimited {
            retry_after: 3600.0,
        }],
    );
    let app = TestApp::with_discord(discord.base(), |c: &mut Config| {
        c.discord_config.sales_channel_id = Some(SALES);
        c.discord_config.refunds_channel_id = Some(REFUNDS);
        c.notifications.new_sale.webhook_urls = vec![HOOK.into()];
    })
    .await;
    let sent = Instant::now();
    app.post("/webhook/payhip", payhip_signed("paid")).await;
    discord
        .wait_for_request("the rate-limited post", WAIT, |r| r.status == 429)
        .await;
    app.post("/webhook/payhip", payhip_signed("refunded")).await;
    discord.wait_for_messages(2, WAIT).await;
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "the other destinations were served at once ({:?})",
        sent.elapsed()
    );
    assert_eq!(discord.messages_to(&hook()).len(), 1);
    assert_eq!(discord.messages_to(&Target::Channel(REFUNDS)).len(), 1);
    assert!(discord.messages_to(&Target::Channel(SALES)).is_empty());
    let store = app.store().clone();
    eventually(
        "only the rate-limited notice to be left pending",
        WAIT,
        || {
            let store = store.clone();
            async move {
                store
                    .outbox_counts()
                    .await
                    .is_ok_and(|c| (c.pending, c.delivered) == (1, 2))
            }
        },
    )
    .await;
    app.stop().await;
}

/// The re-check before a post, as the worker makes it: true when the claimer may post.
async fn begin(store: &Store, id: i64, token: &str, lease_until: i64) -> bool {
    let mark = integrations_bot::db::Mark::Begin {
        run: integrations_bot::db::Run::one(id),
        token: token.to_owned(),
        lease_until,
        started: None,
        blind: false,
    };
    store.apply_mark(&mark).await.unwrap() == 1
}
