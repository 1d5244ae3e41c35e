//! The stores of the registry's table under garbage: correctly signed bodies of every event type
//! with type-confused contents, and arbitrary bytes at every path. Nothing may panic or answer
//! 5xx. Uses the strategies of [`super::hostile`].

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use integrations_bot::config::Secret;
use integrations_bot::providers::{
    gumroad::Gumroad, kofi::Kofi, lemonsqueezy::LemonSqueezy, stripe::Stripe, with_query, Provider,
};
use proptest::prelude::*;
use serde_json::json;

use super::hostile::{json_value, runner};
use crate::support::*;

const STRIPE_KINDS: [&str; 8] = [
    "checkout.session.completed",
    "payment_intent.succeeded",
    "charge.refunded",
    "charge.dispute.created",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "invoice.paid",
    "anything.else",
];

const LEMONSQUEEZY_KINDS: [&str; 8] = [
    "order_created",
    "order_refunded",
    "subscription_created",
    "subscription_cancelled",
    "subscription_expired",
    "subscription_payment_success",
    "license_key_created",
    "",
];

const GUMROAD_KINDS: [&str; 8] = [
    "sale",
    "refund",
    "dispute",
    "dispute_won",
    "cancellation",
    "subscription_ended",
    "subscription_restarted",
    "subscription_updated",
];

/// A form body with `value`'s fields (JSON text for nested ones) and `resource_name`.
fn form(value: &serde_json::Value, resource: &str) -> Vec<u8> {
    let mut out = form_urlencoded::Serializer::new(String::new());
    if let Some(map) = value.as_object() {
        for (k, v) in map {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            out.append_pair(k, &text);
        }
    }
    out.append_pair("resource_name", resource);
    out.finish().into_bytes()
}

#[test]
fn store_parsers_never_panic() {
    let stripe = Stripe::new(Some(&Secret::new(STRIPE_SECRET)));
    let now = chrono::Utc::now();
    runner()
        .run(
            &(
                json_value(),
                json_value(),
                0..STRIPE_KINDS.len(),
                prop::collection::vec(any::<u8>(), 0..256),
            ),
            |(object, previous, k, bytes)| {
                let event = json!({"id": "evt_1", "type": STRIPE_KINDS[k], "created": now.timestamp(),
                    "data": {"object": object, "previous_attributes": previous}});
                for body in [serde_json::to_vec(&event).unwrap_or_default(), bytes] {
                    let mut headers = HeaderMap::new();
                    let signature = stripe_signature(&body, now.timestamp());
                    headers.insert("stripe-signature", signature.parse().unwrap());
                    let _ = stripe.parse(&headers, &body, now);
                    let _ = stripe.parse(&HeaderMap::new(), &body, now);
                }
                let lemon = LemonSqueezy::new(Some(&Secret::new(LEMONSQUEEZY_SECRET)));
                let kind = LEMONSQUEEZY_KINDS[k];
                let hook = json!({"meta": {"event_name": kind}, "data": {"id": previous, "attributes": object}});
                let body = serde_json::to_vec(&hook).unwrap_or_default();
                let mut headers = HeaderMap::new();
                let sig = integrations_bot::providers::lemonsqueezy::signature(
                    &body,
                    &Secret::new(LEMONSQUEEZY_SECRET),
                );
                headers.insert("x-signature", sig.parse().unwrap());
                let _ = lemon.parse(&headers, &body, now);
                let gumroad = Gumroad::new(Some(&Secret::new(GUMROAD_TOKEN)), None);
                let query = format!("token={GUMROAD_TOKEN}");
                let headers = with_query(HeaderMap::new(), Some(&query));
                let _ = gumroad.parse(&headers, &form(&object, GUMROAD_KINDS[k]), now);
                let mut json = HeaderMap::new();
                json.insert("content-type", "application/json".parse().unwrap());
                let json = with_query(json, Some(&query));
                let _ = gumroad.parse(&json, &serde_json::to_vec(&object).unwrap_or_default(), now);
                let kofi = Kofi::new(Some(&Secret::new(KOFI_TOKEN)));
                let mut data = if object.is_object() { object.clone() } else { json!({ "x": object }) };
                data["verification_token"] = json!(KOFI_TOKEN);
                data["type"] = previous.clone();
                let body = form_urlencoded::Serializer::new(String::new())
                    .append_pair("data", &data.to_string())
                    .finish();
                let _ = kofi.parse(&HeaderMap::new(), body.as_bytes(), now);
                Ok(())
            },
        )
        .unwrap();
}

#[tokio::test]
async fn every_store_path_answers_garbage_with_2xx_or_4xx() {
    let app = TestApp::start(|_| {}).await;
    // A fixed sequence of bytes (xorshift), so a failure can be replayed.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u8
    };
    let gumroad = format!("/webhook/gumroad?token={GUMROAD_TOKEN}");
    for path in [
        "/webhook/stripe",
        "/webhook/lemonsqueezy",
        gumroad.as_str(),
        "/webhook/kofi",
    ] {
        for round in 0..50 {
            let bytes: Vec<u8> = (0..(round * 7) % 300).map(|_| next()).collect();
            for content_type in ["application/json", "application/x-www-form-urlencoded"] {
                let req = Request::post(path)
                    .header("content-type", content_type)
                    .header(
                        "stripe-signature",
                        stripe_signature(&bytes, chrono::Utc::now().timestamp()),
                    )
                    .header(
                        "x-signature",
                        integrations_bot::providers::lemonsqueezy::signature(
                            &bytes,
                            &Secret::new(LEMONSQUEEZY_SECRET),
                        ),
                    )
                    .body(Body::from(bytes.clone()))
                    .unwrap();
                let (status, text) = app.oneshot(req).await;
                assert!(
                    status.is_success() || status.is_client_error(),
                    "{path}: {status} {text}"
                );
            }
        }
    }
    app.stop().await;
}
