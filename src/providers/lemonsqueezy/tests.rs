use serde_json::json;

use super::*;
use crate::domain::{Detail, EventKind, Money, RefundScope};

const SECRET: &str = "ls-signing-secret";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/lemonsqueezy/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture exists")
}

fn lemon() -> LemonSqueezy {
    LemonSqueezy::new(Some(&Secret::new(SECRET)))
}

fn signed(body: &[u8]) -> Event {
    let mut h = HeaderMap::new();
    h.insert(
        "x-signature",
        signature(body, &Secret::new(SECRET)).parse().unwrap(),
    );
    lemon().parse(&h, body, Utc::now()).expect("accepted")
}

fn value(v: serde_json::Value) -> Event {
    signed(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn signatures_are_checked_over_the_exact_bytes() {
    let body = fixture("order_created");
    let good = signature(&body, &Secret::new(SECRET));
    let parse = |sig: Option<&str>, body: &[u8]| {
        let mut h = HeaderMap::new();
        if let Some(sig) = sig {
            h.insert("x-signature", sig.parse().unwrap());
        }
        lemon().parse(&h, body, Utc::now())
    };
    assert!(parse(Some(&good), &body).is_ok());
    assert!(parse(Some(&good.to_ascii_uppercase()), &body).is_ok());
    let wrong = signature(&body, &Secret::new("another"));
    let mut changed = body.clone();
    changed.push(b'\n');
    for (case, sig, body) in [
        ("wrong secret", Some(wrong.as_str()), body.clone()),
        ("missing", None, body.clone()),
        ("changed body", Some(good.as_str()), changed),
    ] {
        let e = parse(sig, &body).expect_err(case);
        assert!(matches!(e, ProviderError::BadSignature(_)), "{case}");
    }
    let unset = LemonSqueezy::new(None).parse(&HeaderMap::new(), &body, Utc::now());
    assert!(matches!(unset, Err(ProviderError::NotConfigured(_))));
}

#[test]
fn an_order_is_a_sale_in_exact_cents() {
    let e = signed(&fixture("order_created"));
    assert_eq!(e.kind, EventKind::Sale);
    assert_eq!(
        (e.external_id.as_str(), e.idempotency_key.as_str()),
        ("4128805", "order_created:4128805")
    );
    assert_eq!(e.amount(), Some(&Money::new(2400, "EUR")));
    assert_eq!(e.customer.email.as_deref(), Some("grace@example.net"));
    assert!(!e.test);
    let Detail::Sale(s) = &e.detail else { panic!() };
    assert_eq!(s.items[0].name, "Brush Pack Vol. 2");
    assert_eq!(s.items[0].variant.as_deref(), Some("Commercial licence"));
    assert_eq!(
        (s.vat_minor, s.order_id.as_deref()),
        (Some(400), Some("10234"))
    );
    assert_eq!(e.occurred_at.to_rfc3339(), "2026-02-03T14:05:09+00:00");
}

#[test]
fn refunds_report_everything_refunded_so_far() {
    let partial = signed(&fixture("order_refunded_partial"));
    let full = signed(&fixture("order_refunded_full"));
    for (e, so_far) in [(&partial, 500), (&full, 2400)] {
        let Detail::Refund(r) = &e.detail else {
            panic!()
        };
        assert_eq!(r.amount, Money::new(so_far, "EUR"));
        assert_eq!(r.scope, RefundScope::Cumulative);
        assert_eq!(r.sale_external_id, "4128805");
        assert_eq!(r.original_total, Some(Money::new(2400, "EUR")));
    }
    assert_ne!(partial.idempotency_key, full.idempotency_key);
}

#[test]
fn subscriptions_and_their_payments() {
    let kinds: Vec<EventKind> = [
        "subscription_created",
        "subscription_cancelled",
        "subscription_expired",
        "subscription_payment_success_initial",
        "subscription_payment_success_renewal",
    ]
    .iter()
    .map(|n| signed(&fixture(n)).kind)
    .collect();
    assert_eq!(
        kinds,
        [
            EventKind::SubscriptionStarted,
            EventKind::SubscriptionNotRenewing,
            EventKind::SubscriptionCancelled,
            EventKind::Other,
            EventKind::Sale,
        ]
    );
    let renewal = signed(&fixture("subscription_payment_success_renewal"));
    assert_eq!(renewal.external_id, "invoice-1190977");
    assert_eq!(renewal.amount(), Some(&Money::new(1080, "EUR")));
    let started = signed(&fixture("subscription_created"));
    let Detail::Subscription(s) = &started.detail else {
        panic!()
    };
    assert_eq!(s.product.as_deref(), Some("Studio Membership"));
    assert_eq!(s.plan.as_deref(), Some("Monthly"));
    let cancelled = signed(&fixture("subscription_cancelled"));
    let Detail::Subscription(c) = &cancelled.detail else {
        panic!()
    };
    assert_eq!(
        c.next_charge_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-03-03T15:00:00+00:00"),
        "runs until ends_at"
    );
}

#[test]
fn test_mode_is_marked_and_the_header_names_a_nameless_body() {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture("order_created")).unwrap();
    v["data"]["attributes"]["test_mode"] = json!(true);
    assert!(value(v.clone()).test);
    v["meta"] = json!({});
    let body = serde_json::to_vec(&v).unwrap();
    let mut h = HeaderMap::new();
    h.insert(
        "x-signature",
        signature(&body, &Secret::new(SECRET)).parse().unwrap(),
    );
    h.insert("x-event-name", "order_created".parse().unwrap());
    assert_eq!(
        lemon().parse(&h, &body, Utc::now()).unwrap().kind,
        EventKind::Sale
    );
    let other = value(json!({"meta": {"event_name": "license_key_created"}, "data": {"id": "9"}}));
    assert_eq!(other.kind, EventKind::Other);
}

#[test]
fn a_signed_body_that_cannot_be_read_is_kept_raw() {
    for v in [
        json!({"meta": {"event_name": "order_created"}, "data": {"id": "1", "attributes": {"total": 100}}}),
        json!({"data": {"id": "1"}}),
        json!({"meta": {"event_name": "order_created"}, "data": {"id": "1", "attributes": {"total": 1.5, "currency": "USD"}}}),
    ] {
        let e = value(v.clone());
        assert!(matches!(e.detail, Detail::Unreadable(_)), "{v}: {e:?}");
    }
}

#[test]
fn a_refused_order_is_kept_with_its_signature_and_junk_is_not() {
    let body = fixture("order_created");
    let mut h = HeaderMap::new();
    h.insert("x-signature", "0123".parse().unwrap());
    let kept = lemon()
        .quarantine(&h, &body, Utc::now())
        .expect("a Lemon Squeezy order");
    assert_eq!(kept.headers, vec![("x-signature".into(), "0123".into())]);
    assert!(lemon()
        .quarantine(&HeaderMap::new(), &body, Utc::now())
        .is_none());
    assert!(lemon().quarantine(&h, b"{}", Utc::now()).is_none());
}
