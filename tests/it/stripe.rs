//! Stripe through the whole pipeline: signed events as Stripe sends them, one sale per payment,
//! refunds deducted by what each returned, and retries (re-signed, as Stripe does) stored once.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use integrations_bot::db::Grain;

use crate::support::discord::{FakeDiscord, Posted, Target};
use crate::support::*;

const PATH: &str = "/webhook/stripe";
const ALL: (i64, i64) = (0, i64::MAX / 2);

async fn send(app: &TestApp, body: Vec<u8>, signature: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::post(PATH).header("content-type", "application/json; charset=utf-8");
    if let Some(signature) = signature {
        req = req.header("stripe-signature", signature);
    }
    app.oneshot(req.body(Body::from(body)).unwrap()).await
}

/// Sends a fixture signed now, as Stripe does on every delivery and retry.
async fn deliver(app: &TestApp, name: &str) -> StatusCode {
    let (body, signature) = stripe_signed(name);
    let (status, text) = send(app, body, Some(&signature)).await;
    assert_eq!(status, StatusCode::OK, "{name}: {text}");
    status
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
    for name in STRIPE_EVENTS {
        deliver(&app, name).await;
    }
    let counts = app.store().table_counts().await.unwrap();
    // The Checkout session and its payment intent are one sale; the yen payment and the renewal
    // are two more.
    assert_eq!(
        (
            counts.events,
            counts.sales,
            counts.refunds,
            counts.subscriptions
        ),
        (9, 3, 2, 1)
    );
    for name in STRIPE_EVENTS {
        deliver(&app, name).await;
    }
    assert_eq!(app.store().table_counts().await.unwrap(), counts, "retries");
    let mut money = app
        .store()
        .money_rollup(Grain::Month, ALL.0, ALL.1, Some("stripe"))
        .await
        .unwrap();
    money.sort();
    assert_eq!(
        money,
        vec![
            // €25.00 paid, refunded €10.00 then €15.00; the €9.00 renewal.
            ("EUR".to_owned(), 2, 3400, 0, 2, 2500),
            ("JPY".to_owned(), 1, 1500, 0, 0, 0),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_missing_or_stale_signatures_are_refused_and_nothing_is_stored() {
    let app = TestApp::start(|_| {}).await;
    let (body, good) = stripe_signed("payment_intent_succeeded");
    let now = chrono::Utc::now().timestamp();
    let forged = integrations_bot::providers::stripe::signature_header(
        now,
        &body,
        &integrations_bot::config::Secret::new("whsec_someone_else"),
    );
    let stale = stripe_signature(&body, now - 6 * 60);
    let mut reencoded = body.clone();
    reencoded.extend_from_slice(b" ");
    for (case, body, signature) in [
        ("wrong secret", body.clone(), Some(forged.as_str())),
        ("missing", body.clone(), None),
        ("older than 5 minutes", body.clone(), Some(stale.as_str())),
        ("body changed", reencoded, Some(good.as_str())),
    ] {
        let (status, text) = send(&app, body, signature).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {text}");
        assert!(!text.contains(STRIPE_SECRET), "{case}");
    }
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    let (status, _) = send(&app, body, Some(&good)).await;
    assert_eq!(status, StatusCode::OK, "the same body, correctly signed");
    app.stop().await;
}

#[tokio::test]
async fn a_checkout_and_its_payment_intent_post_one_sale_notice_with_the_exact_amount() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77);
        c.discord_config.refunds_channel_id = Some(88);
    })
    .await;
    for name in [
        "checkout_session_completed",
        "payment_intent_succeeded",
        "checkout_session_completed",
        "payment_intent_succeeded_jpy",
        "charge_refunded_partial",
    ] {
        deliver(&app, name).await;
    }
    let posted = discord.wait_for_notices(3, Duration::from_secs(20)).await;
    let sales: Vec<&Posted> = posted
        .iter()
        .filter(|m| m.target == Target::Channel(77))
        .collect();
    assert_eq!(sales.len(), 2, "{posted:?}");
    let totals: Vec<_> = sales.iter().filter_map(|m| field(m, "Total")).collect();
    assert!(
        totals.contains(&"€25.00") && totals.contains(&"¥1500"),
        "{totals:?}"
    );
    assert_eq!(sales[0].body["embeds"][0]["footer"]["text"], "Stripe");
    let refund = posted
        .iter()
        .find(|m| m.target == Target::Channel(88))
        .expect("refund notice");
    assert_eq!(field(refund, "Refunded"), Some("€10.00"));
    assert_eq!(
        refund.body["embeds"][0]["title"], "Partial Refund Issued",
        "{refund:?}"
    );
    app.stop().await;
    assert_eq!(discord.notices().len(), 3, "nothing announced twice");
}

#[test]
fn check_config_says_whether_the_stripe_secret_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, "{}").unwrap();
    let run = |secret: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"));
        cmd.arg("--config").arg(&path).arg("check-config");
        match secret {
            Some(s) => cmd.env("STRIPE_WEBHOOK_SECRET", s),
            None => cmd.env_remove("STRIPE_WEBHOOK_SECRET"),
        };
        // `{}` has no channel, so check-config exits 1; its report still lists every secret.
        let out = cmd.output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let unset = run(None);
    assert!(unset.contains("STRIPE_WEBHOOK_SECRET: not set"), "{unset}");
    let set = run(Some("whsec_from_the_dashboard"));
    assert!(set.contains("STRIPE_WEBHOOK_SECRET: set"), "{set}");
    assert!(!set.contains("whsec_from_the_dashboard"), "{set}");
}

/// With `stripeConfig.forwardUrl`, the other server gets the body and Stripe's signature as sent.
#[tokio::test]
async fn a_forwarded_event_keeps_its_stripe_signature() {
    use std::sync::{Arc, Mutex};
    type Received = (Vec<u8>, Option<String>);
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let seen = Arc::clone(&got);
    let server = axum::Router::new().route(
        "/stripe",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| async move {
                let signature = headers
                    .get("stripe-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                seen.lock().unwrap().push((body.to_vec(), signature));
                StatusCode::OK
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/stripe", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, server).await });
    let app = TestApp::start(move |c| {
        c.stores.section_mut("stripeConfig").unwrap().forward_url = Some(url);
    })
    .await;
    let (body, signature) = stripe_signed("invoice_paid");
    let (status, text) = send(&app, body.clone(), Some(&signature)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert_eq!(*got.lock().unwrap(), vec![(body, Some(signature))]);
    assert_eq!(app.store().table_counts().await.unwrap().sales, 1);
    app.stop().await;
}
