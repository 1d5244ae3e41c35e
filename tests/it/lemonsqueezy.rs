//! Lemon Squeezy through the whole pipeline: signed webhooks as Lemon Squeezy sends them, refunds
//! reported as "refunded so far" counted once in any order, and retries stored once.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use integrations_bot::db::Grain;

use crate::support::discord::{FakeDiscord, Posted, Target};
use crate::support::*;

const PATH: &str = "/webhook/lemonsqueezy";
const ALL: (i64, i64) = (0, i64::MAX / 2);

async fn send(app: &TestApp, body: Vec<u8>, signature: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::post(PATH).header("content-type", "application/json");
    if let Some(signature) = signature {
        req = req.header("x-signature", signature);
    }
    app.oneshot(req.body(Body::from(body)).unwrap()).await
}

async fn deliver(app: &TestApp, name: &str) {
    let (body, signature) = lemonsqueezy_signed(name);
    let (status, text) = send(app, body, Some(&signature)).await;
    assert_eq!(status, StatusCode::OK, "{name}: {text}");
}

async fn money(app: &TestApp) -> Vec<(String, i64, i64, i64, i64, i64)> {
    app.store()
        .money_rollup(Grain::Month, ALL.0, ALL.1, Some("lemonsqueezy"))
        .await
        .unwrap()
}

fn field<'a>(m: &'a Posted, name: &str) -> Option<&'a str> {
    m.body["embeds"][0]["fields"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)?["value"]
        .as_str()
}

#[tokio::test]
async fn every_event_type_is_acknowledged_and_a_retry_stores_nothing_new() {
    let app = TestApp::start(|_| {}).await;
    for name in LEMONSQUEEZY_EVENTS {
        deliver(&app, name).await;
    }
    let counts = app.store().table_counts().await.unwrap();
    // The order and the renewal are sales; the first invoice is the order's money again.
    assert_eq!(
        (
            counts.events,
            counts.sales,
            counts.refunds,
            counts.subscriptions
        ),
        (8, 2, 2, 1)
    );
    for name in LEMONSQUEEZY_EVENTS {
        deliver(&app, name).await;
    }
    assert_eq!(app.store().table_counts().await.unwrap(), counts, "retries");
    // €24.00 and €10.80 paid; €5.00 and then the other €19.00 refunded.
    assert_eq!(
        money(&app).await,
        vec![("EUR".to_owned(), 2, 3480, 0, 2, 2400)]
    );
    app.stop().await;
}

#[tokio::test]
async fn refunds_so_far_are_counted_once_in_either_order_and_announced_as_what_each_gave_back() {
    for (case, first, second) in [
        ("in order", "order_refunded_partial", "order_refunded_full"),
        (
            "full first",
            "order_refunded_full",
            "order_refunded_partial",
        ),
    ] {
        let discord = FakeDiscord::start().await;
        let app = TestApp::with_discord(discord.base(), |c| {
            c.discord_config.refunds_channel_id = Some(88)
        })
        .await;
        for name in ["order_created", first, second] {
            deliver(&app, name).await;
        }
        assert_eq!(
            money(&app).await,
            vec![(
                "EUR".to_owned(),
                1,
                2400,
                0,
                if first == "order_refunded_full" { 1 } else { 2 },
                2400
            )],
            "{case}: €24.00 refunded in all"
        );
        let expected: &[(&str, &str)] = if first == "order_refunded_full" {
            &[("Refund Issued", "€24.00")]
        } else {
            &[
                ("Partial Refund Issued", "€5.00"),
                ("Partial Refund Issued", "€19.00"),
            ]
        };
        let posted = discord
            .wait_for_notices(expected.len(), Duration::from_secs(20))
            .await;
        app.stop().await;
        let notices: Vec<(String, String)> = discord
            .notices()
            .iter()
            .filter(|m| m.target == Target::Channel(88))
            .map(|m| {
                (
                    m.body["embeds"][0]["title"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    field(m, "Refunded").unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(t, a)| (t.to_string(), a.to_string()))
            .collect();
        assert_eq!(notices, expected, "{case}: {posted:?}");
    }
}

#[tokio::test]
async fn wrong_or_missing_signatures_are_refused_and_nothing_is_stored() {
    let app = TestApp::start(|_| {}).await;
    let (body, good) = lemonsqueezy_signed("order_created");
    let forged = integrations_bot::providers::lemonsqueezy::signature(
        &body,
        &integrations_bot::config::Secret::new("not-the-secret"),
    );
    for (case, signature) in [("wrong", Some(forged.as_str())), ("missing", None)] {
        let (status, text) = send(&app, body.clone(), signature).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {text}");
    }
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    let (status, _) = send(&app, body, Some(&good)).await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn an_order_posts_one_sale_notice_naming_lemon_squeezy_and_the_product() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77)
    })
    .await;
    deliver(&app, "order_created").await;
    deliver(&app, "order_created").await;
    let posted = discord.wait_for_notices(1, Duration::from_secs(20)).await;
    assert_eq!(posted[0].target, Target::Channel(77));
    assert_eq!(
        posted[0].body["embeds"][0]["footer"]["text"],
        "Lemon Squeezy"
    );
    assert_eq!(field(&posted[0], "Total"), Some("€24.00"));
    assert!(
        field(&posted[0], "Products").is_some_and(|p| p.contains("Brush Pack Vol. 2")),
        "{posted:?}"
    );
    app.stop().await;
    assert_eq!(discord.notices().len(), 1);
}
