//! Ko-fi through the whole pipeline: form posts with the verification token inside their JSON,
//! every payment a sale in exact cents, retries (same message id) stored once, the token never
//! stored.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use integrations_bot::db::Grain;

use crate::support::discord::{FakeDiscord, Target};
use crate::support::*;

const ALL: (i64, i64) = (0, i64::MAX / 2);

async fn post(app: &TestApp, body: Vec<u8>) -> (StatusCode, String) {
    let req = Request::post("/webhook/kofi")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    app.oneshot(req).await
}

async fn deliver(app: &TestApp, name: &str) {
    let (status, text) = post(app, kofi_form(name, KOFI_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{name}: {text}");
}

#[tokio::test]
async fn every_payment_is_a_sale_counted_once_in_exact_cents() {
    let app = TestApp::start(|_| {}).await;
    for name in KOFI_EVENTS {
        deliver(&app, name).await;
    }
    for name in KOFI_EVENTS {
        deliver(&app, name).await;
    }
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.events, counts.sales), (5, 5), "retries add nothing");
    let money = app
        .store()
        .money_rollup(Grain::Month, ALL.0, ALL.1, Some("kofi"))
        .await
        .unwrap();
    // €4.50 + €5.00 + €5.00 + €120.00 + €27.95
    assert_eq!(money, vec![("EUR".to_owned(), 5, 16245, 0, 0, 0)]);
    let mut products = app
        .store()
        .products_rollup(Grain::Month, ALL.0, ALL.1, Some("kofi"))
        .await
        .unwrap();
    products.sort();
    assert!(
        products.contains(&("Membership: Bronze".to_owned(), 2, 2)),
        "{products:?}"
    );
    assert!(
        products.contains(&("Shop item r3t8w6z2v5".to_owned(), 1, 5)),
        "{products:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_the_right_one_is_never_stored() {
    let app = TestApp::start(|_| {}).await;
    let (status, text) = post(&app, kofi_form("donation", "not-the-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
    let (status, _) = post(&app, b"amount=3.00".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    deliver(&app, "donation").await;
    let raw = raw_bodies(&app).await;
    assert_eq!(raw.len(), 1);
    assert!(
        !raw[0].contains(KOFI_TOKEN) && raw[0].contains("redacted"),
        "{raw:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_donation_posts_one_notice_naming_ko_fi() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77)
    })
    .await;
    deliver(&app, "donation").await;
    deliver(&app, "donation").await;
    let posted = discord.wait_for_notices(1, Duration::from_secs(20)).await;
    assert_eq!(posted[0].target, Target::Channel(77));
    let embed = &posted[0].body["embeds"][0];
    assert_eq!(embed["footer"]["text"], "Ko-fi");
    let total = embed["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Total")
        .unwrap();
    assert_eq!(total["value"], "€4.50");
    app.stop().await;
    assert_eq!(discord.notices().len(), 1);
}
