//! Gumroad through the whole pipeline: form-encoded pings accepted only with the token in their
//! URL, retries (which Gumroad marks with `retry_count`) stored once, and the token never stored.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use integrations_bot::db::Grain;

use crate::support::discord::{FakeDiscord, Target};
use crate::support::*;

const ALL: (i64, i64) = (0, i64::MAX / 2);

async fn ping(app: &TestApp, query: &str, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::post(format!("/webhook/gumroad{query}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    app.oneshot(req).await
}

async fn deliver(app: &TestApp, name: &str) {
    let (status, text) = ping(app, &format!("?token={GUMROAD_TOKEN}"), gumroad_form(name)).await;
    assert_eq!(status, StatusCode::OK, "{name}: {text}");
}

#[tokio::test]
async fn every_ping_is_acknowledged_and_a_retry_stores_nothing_new() {
    let app = TestApp::start(|_| {}).await;
    for name in GUMROAD_EVENTS {
        deliver(&app, name).await;
    }
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!(
        (
            counts.events,
            counts.sales,
            counts.refunds,
            counts.subscriptions
        ),
        (8, 1, 1, 1)
    );
    for name in GUMROAD_EVENTS {
        let mut retried = gumroad_form(name);
        retried.extend_from_slice(b"&retry_count=1");
        let (status, _) = ping(&app, &format!("?token={GUMROAD_TOKEN}"), retried).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(app.store().table_counts().await.unwrap(), counts, "retries");
    let money = app
        .store()
        .money_rollup(Grain::Month, ALL.0, ALL.1, Some("gumroad"))
        .await
        .unwrap();
    // €15.00 paid, €1.75 fee, refunded in full once (the partial refund named no amount).
    assert_eq!(money, vec![("EUR".to_owned(), 1, 1500, 175, 1, 1500)]);
    app.stop().await;
}

#[tokio::test]
async fn pings_without_the_right_token_are_refused_and_the_token_is_never_stored() {
    let app = TestApp::start(|_| {}).await;
    for query in [
        "",
        "?token=",
        "?token=guessed",
        "?tok=test-gumroad-ping-token",
    ] {
        let (status, text) = ping(&app, query, gumroad_form("sale")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{query:?}: {text}");
    }
    // The router hands the query to the parser under a header of its own; one sent by a client
    // is dropped.
    let forged = Request::post("/webhook/gumroad")
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            integrations_bot::providers::QUERY_HEADER,
            format!("token={GUMROAD_TOKEN}"),
        )
        .body(Body::from(gumroad_form("sale")))
        .unwrap();
    assert_eq!(app.oneshot(forged).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    deliver(&app, "sale").await;
    let raw = raw_bodies(&app).await;
    assert_eq!(raw.len(), 1);
    assert!(
        raw[0].contains("sale_id=") && !raw[0].contains(GUMROAD_TOKEN),
        "{raw:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_sale_posts_one_notice_naming_gumroad_and_a_test_ping_is_marked() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77);
        c.stores
            .section_mut("gumroadConfig")
            .unwrap()
            .announce_tests = true;
    })
    .await;
    deliver(&app, "sale").await;
    deliver(&app, "sale").await;
    deliver(&app, "test_ping").await;
    let posted = discord.wait_for_notices(2, Duration::from_secs(20)).await;
    assert!(posted.iter().all(|m| m.target == Target::Channel(77)));
    let titles: Vec<&str> = posted
        .iter()
        .map(|m| m.body["embeds"][0]["title"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        titles.iter().filter(|t| t.contains("TEST")).count(),
        1,
        "{titles:?}"
    );
    assert_eq!(posted[0].body["embeds"][0]["footer"]["text"], "Gumroad");
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!(
        (counts.sales, counts.test_events),
        (1, 1),
        "the test is not the sale"
    );
    app.stop().await;
    assert_eq!(discord.notices().len(), 2);
}
