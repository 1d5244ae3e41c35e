//! Xsolla through the same pipeline: the replies Xsolla expects, and one notice per sale.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use integrations_bot::config::Secret;
use serde_json::Value;

use crate::support::discord::{FakeDiscord, Target};
use crate::support::*;

const PATH: &str = "/webhook/xsolla";

async fn send(app: &TestApp, body: Vec<u8>, auth: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::post(PATH).header("content-type", "application/json");
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    app.oneshot(req.body(Body::from(body)).unwrap()).await
}

#[tokio::test]
async fn every_notification_type_is_acknowledged_with_204_and_recorded_once() {
    let app = TestApp::start(|_| {}).await;
    let names = [
        "payment",
        "refund",
        "order_paid",
        "order_canceled",
        "create_subscription",
        "update_subscription",
        "cancel_subscription",
        "user_validation",
    ];
    for name in names {
        let (body, auth) = xsolla_signed(name);
        let (status, text) = send(&app, body, Some(&auth)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name}: {text}");
        assert!(text.is_empty(), "{name}: 204 has no body");
    }
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!(
        (
            counts.events,
            counts.sales,
            counts.refunds,
            counts.subscriptions
        ),
        (8, 2, 2, 1)
    );
    for name in names {
        let (body, auth) = xsolla_signed(name);
        let (status, _) = send(&app, body, Some(&auth)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{name} again");
    }
    assert_eq!(
        app.store().table_counts().await.unwrap(),
        counts,
        "duplicates add nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_missing_or_reencoded_signatures_get_invalid_signature() {
    let app = TestApp::start(|_| {}).await;
    let (body, auth) = xsolla_signed("payment");
    let forged = format!(
        "Signature {}",
        integrations_bot::providers::xsolla::signature(&body, &Secret::new("wrong"))
    );
    let reencoded = serde_json::to_vec(&serde_json::from_slice::<Value>(&body).unwrap()).unwrap();
    for (case, body, auth) in [
        ("forged", body.clone(), Some(forged.as_str())),
        ("missing", body.clone(), None),
        ("re-encoded body", reencoded, Some(auth.as_str())),
    ] {
        let (status, text) = send(&app, body, auth).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["error"]["code"], "INVALID_SIGNATURE", "{case}");
    }
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_signed_payment_posts_one_sale_notice_naming_xsolla() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77)
    })
    .await;
    let (body, auth) = xsolla_signed("payment");
    send(&app, body.clone(), Some(&auth)).await;
    send(&app, body, Some(&auth)).await;
    let posted = discord.wait_for_notices(1, Duration::from_secs(20)).await;
    assert_eq!(posted[0].target, Target::Channel(77));
    let embed = &posted[0].body["embeds"][0];
    assert_eq!(embed["footer"]["text"], "Xsolla");
    let total = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Total")
        .unwrap();
    assert_eq!(total["value"], "$9.99");
    app.stop().await;
    assert_eq!(discord.notices().len(), 1);
}

/// With automatic refunds on, Xsolla refunds the buyer of an `order_paid` answered with a 4xx.
#[tokio::test]
async fn a_signed_order_paid_missing_a_field_is_kept_and_acknowledged_never_refused() {
    let app = TestApp::start(|c| c.discord_config.sales_channel_id = Some(77)).await;
    let mut order: Value = crate::support::fixture("xsolla/order_paid.json");
    order["order"]
        .as_object_mut()
        .unwrap()
        .remove("amount")
        .unwrap();
    let body = serde_json::to_vec(&order).unwrap();
    let auth = format!(
        "Signature {}",
        integrations_bot::providers::xsolla::signature(&body, &Secret::new(XSOLLA_SECRET))
    );
    for attempt in ["first", "retry"] {
        let (status, text) = send(&app, body.clone(), Some(&auth)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{attempt}: {text}");
    }
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!(
        (counts.events, counts.sales),
        (1, 0),
        "kept once for the record, never counted as a sale"
    );
    assert!(
        app.store().outbox_rows().await.unwrap().is_empty(),
        "nothing announced"
    );
    // Not JSON at all, but signed: still acknowledged.
    let garbage = b"notification_type=order_paid".to_vec();
    let auth = format!(
        "Signature {}",
        integrations_bot::providers::xsolla::signature(&garbage, &Secret::new(XSOLLA_SECRET))
    );
    let (status, _) = send(&app, garbage, Some(&auth)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.store().table_counts().await.unwrap().events, 2);
    assert_eq!(
        app.running.state.unreadable(),
        2,
        "each unreadable body counted once for /metrics, retries not again"
    );
    app.stop().await;
}

/// Xsolla's dry-run payments are signed like real ones, so unlike Payhip's unsigned test button
/// they are stored (as tests, never counted) even when they are not announced.
#[tokio::test]
async fn signed_dry_runs_are_kept_as_tests() {
    let app = TestApp::start(|_| {}).await;
    let text = std::fs::read_to_string(fixtures_dir().join("xsolla/payment.json")).unwrap();
    let body = text
        .replace("\"dry_run\": 0", "\"dry_run\": 1")
        .into_bytes();
    let auth = format!(
        "Signature {}",
        integrations_bot::providers::xsolla::signature(&body, &Secret::new(XSOLLA_SECRET))
    );
    let (status, reply) = send(&app, body, Some(&auth)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{reply}");
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.test_events, counts.sales), (1, 0));
    app.stop().await;
}
