//! Garbage at a public URL: arbitrary bytes, type-confused and deeply nested JSON, huge numbers,
//! odd content types. Nothing may panic or answer 5xx. Short by default; set
//! `HOSTILE_CASES=1000000` for the long run.

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{HeaderMap, Request};
use integrations_bot::config::Secret;
use integrations_bot::providers::{payhip::Payhip, xsolla::Xsolla, Provider};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::support::*;

fn cases() -> u32 {
    std::env::var("HOSTILE_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

pub(super) fn runner() -> TestRunner {
    let seed = test_seed("hostile payloads").to_le_bytes().repeat(4);
    TestRunner::new_with_rng(
        ProptestConfig {
            cases: cases(),
            failure_persistence: None,
            ..ProptestConfig::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    )
}

/// Any JSON value, nested, with huge and odd numbers and unicode.
pub(super) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
        Just(json!("99999999999999999999999999.999")),
        Just(json!("-0.000001")),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("type".to_owned()),
                    Just("id".to_owned()),
                    Just("price".to_owned()),
                    Just("currency".to_owned()),
                    Just("items".to_owned()),
                    Just("quantity".to_owned()),
                    Just("notification_type".to_owned()),
                    Just("transaction".to_owned()),
                    Just("purchase".to_owned()),
                    Just("total".to_owned()),
                    Just("amount".to_owned()),
                    Just("order".to_owned()),
                    Just("subscription".to_owned()),
                    ".{0,8}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Payloads shaped like real ones, with a valid signature, so parsing goes past the gate.
fn signed_payhip(mut v: Value, kind: &str) -> Vec<u8> {
    if !v.is_object() {
        v = json!({ "payload": v });
    }
    v["type"] = json!(kind);
    v["signature"] = json!(payhip_signature(PAYHIP_KEY));
    serde_json::to_vec(&v).unwrap_or_default()
}

const PAYHIP_KINDS: [&str; 5] = [
    "paid",
    "refunded",
    "subscription.created",
    "subscription.deleted",
    "other",
];
const XSOLLA_KINDS: [&str; 6] = [
    "payment",
    "refund",
    "order_paid",
    "order_canceled",
    "create_subscription",
    "user_validation",
];

#[test]
fn provider_parsers_never_panic() {
    let payhip = Payhip::new(Some(&Secret::new(PAYHIP_KEY)));
    let xsolla = Xsolla::new(Some(&Secret::new(XSOLLA_SECRET)));
    let now = chrono::Utc::now();
    runner()
        .run(
            &(
                json_value(),
                0..5usize,
                prop::collection::vec(any::<u8>(), 0..256),
            ),
            |(v, k, bytes)| {
                let _ = payhip.parse(&HeaderMap::new(), &bytes, now);
                let _ = payhip.parse(
                    &HeaderMap::new(),
                    &signed_payhip(v.clone(), PAYHIP_KINDS[k]),
                    now,
                );
                let mut x = if v.is_object() {
                    v
                } else {
                    json!({ "payload": v })
                };
                x["notification_type"] = json!(XSOLLA_KINDS[k]);
                let body = serde_json::to_vec(&x).unwrap_or_default();
                let mut headers = HeaderMap::new();
                let sig = integrations_bot::providers::xsolla::signature(
                    &body,
                    &Secret::new(XSOLLA_SECRET),
                );
                headers.insert("authorization", format!("Signature {sig}").parse().unwrap());
                let _ = xsolla.parse(&headers, &body, now);
                let _ = xsolla.parse(&headers, &bytes, now);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let payhip = Payhip::new(Some(&Secret::new(PAYHIP_KEY)));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(payhip
        .parse(&HeaderMap::new(), deep.as_bytes(), chrono::Utc::now())
        .is_err());
}

fn shared_app() -> &'static (tokio::runtime::Runtime, TestApp) {
    static APP: OnceLock<(tokio::runtime::Runtime, TestApp)> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let app = rt.block_on(TestApp::start(|_| {}));
        (rt, app)
    })
}

#[test]
fn the_router_answers_garbage_with_2xx_or_4xx() {
    let (rt, app) = shared_app();
    let content_types = [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
        "application/json; charset=latin1",
    ];
    runner()
        .run(
            &(
                json_value(),
                0..5usize,
                prop::collection::vec(any::<u8>(), 0..512),
                0..5usize,
                any::<bool>(),
            ),
            |(v, k, bytes, ct, xsolla)| {
                let path = if xsolla {
                    "/webhook/xsolla"
                } else {
                    "/webhook/payhip"
                };
                for body in [bytes.clone(), signed_payhip(v.clone(), PAYHIP_KINDS[k])] {
                    let mut req = Request::post(path);
                    if !content_types[ct].is_empty() {
                        req = req.header("content-type", content_types[ct]);
                    }
                    let (status, text) =
                        rt.block_on(app.oneshot(req.body(Body::from(body)).unwrap()));
                    prop_assert!(
                        status.is_success() || status.is_client_error(),
                        "{status} {text}"
                    );
                    if status.is_client_error() && status.as_u16() != 405 {
                        prop_assert!(!text.is_empty(), "a refusal says why");
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}
