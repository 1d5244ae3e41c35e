//! Unit tests of `payhip`, kept beside it so the module itself stays short.

use super::*;
use crate::domain::{Detail, EventKind, Money};
use serde_json::json;

const KEY: &str = "payhip-test-key";

fn payhip() -> Payhip {
    Payhip::new(Some(&Secret::new(KEY)))
}

fn signed(mut v: serde_json::Value) -> Vec<u8> {
    v["signature"] = json!(sha256_hex(KEY.as_bytes()));
    serde_json::to_vec(&v).unwrap()
}

fn parse(body: &[u8]) -> Result<Event, ProviderError> {
    payhip().parse(&HeaderMap::new(), body, Utc::now())
}

#[test]
fn paid_becomes_a_sale_in_minor_units() {
    let e = parse(&signed(json!({
        "type": "paid", "id": "TX1", "price": 1999, "currency": "eur", "date": 1700000000,
        "stripe_fee": "88", "payhip_fee": 100, "payment_type": "card", "vat_applied": true,
        "email": "buyer@example.com",
        "items": [{"product_name": "Course", "quantity": "2", "on_sale": true, "variant_name": "Pro",
                   "used_coupon": true, "coupon_code": "SPRING", "coupon_percentage": "10", "coupon_amount": 222}]
    })))
    .unwrap();
    assert_eq!(e.kind, EventKind::Sale);
    assert_eq!(e.idempotency_key, "paid:TX1");
    assert_eq!(e.occurred_at.timestamp(), 1700000000);
    let Detail::Sale(s) = &e.detail else { panic!() };
    assert_eq!(s.total, Money::new(1999, "EUR"));
    assert_eq!(s.net(), Some(Money::new(1811, "EUR")));
    assert_eq!(s.items[0].quantity, 2);
    assert_eq!(s.items[0].variant.as_deref(), Some("Pro"));
    assert_eq!(s.coupons[0].code, "SPRING");
    assert_eq!(s.payment_method.as_deref(), Some("Stripe (card)"));
}

#[test]
fn refund_links_to_its_sale_and_keys_each_part() {
    let e = parse(&signed(json!({
        "type": "refunded", "id": "TX1", "price": 1999, "currency": "USD",
        "amount_refunded": 500, "date_created": 1700000000, "date_refunded": 1700003600
    })))
    .unwrap();
    assert_eq!(e.kind, EventKind::Refund);
    assert_eq!(e.idempotency_key, "refunded:TX1:1700003600:500");
    let Detail::Refund(r) = &e.detail else {
        panic!()
    };
    assert_eq!(r.sale_external_id, "TX1");
    assert_eq!(r.amount, Money::new(500, "USD"));
    assert_eq!(r.purchased_at.map(|t| t.timestamp()), Some(1700000000));
}

#[test]
fn subscriptions_carry_customer_and_state() {
    let e = parse(&signed(json!({
        "type": "subscription.deleted", "subscription_id": "SUB9", "status": "canceled",
        "customer_first_name": "Ada", "customer_last_name": "Lovelace", "plan_name": "Monthly",
        "date_subscription_started": 1700000000, "date_subscription_deleted": 1700100000
    })))
    .unwrap();
    assert_eq!(e.kind, EventKind::SubscriptionCancelled);
    assert_eq!(e.customer.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(e.occurred_at.timestamp(), 1700100000);
}

#[test]
fn signature_is_checked_before_anything_else() {
    let forged = br#"{"type":"paid","id":"X","price":1,"currency":"USD","signature":"abc"}"#;
    assert!(matches!(parse(forged), Err(ProviderError::BadSignature(_))));
    let missing = br#"{"type":"paid","id":"X","price":1,"currency":"USD"}"#;
    assert!(matches!(
        parse(missing),
        Err(ProviderError::BadSignature(_))
    ));
    let unconfigured = Payhip::new(None).parse(&HeaderMap::new(), forged, Utc::now());
    assert!(matches!(unconfigured, Err(ProviderError::NotConfigured(_))));
}

#[test]
fn test_signature_is_accepted_and_marked() {
    let e = parse(br#"{"type":"paid","id":"X","price":1,"currency":"USD","signature":"test123"}"#)
        .unwrap();
    assert!(e.test);
    assert!(e.idempotency_key.starts_with("test:paid:X:"));
}

#[test]
fn malformed_payloads_name_the_problem() {
    let Err(ProviderError::Malformed(m)) = parse(b"{not json") else {
        panic!()
    };
    assert!(m.contains("not valid JSON"), "{m}");
    let Err(ProviderError::Malformed(m)) = parse(&signed(
        json!({"type": "paid", "price": 1, "currency": "USD"}),
    )) else {
        panic!()
    };
    assert!(m.contains("`id`"), "{m}");
    let Err(ProviderError::Malformed(m)) = parse(&signed(
        json!({"type": "paid", "id": "1", "price": 1.5, "currency": "USD"}),
    )) else {
        panic!()
    };
    assert!(m.contains("price"), "{m}");
    let Err(ProviderError::Malformed(m)) = parse(&signed(
        json!({"type": "paid", "id": "1", "price": 1, "currency": "USD", "items": [{"quantity": "two"}]}),
    )) else {
        panic!()
    };
    assert!(m.contains("items[0].quantity"), "{m}");
}

#[test]
fn samples_are_signed_tests_that_translate() {
    for kind in SAMPLE_KINDS {
        let v = sample(kind, &Secret::new(KEY), Utc::now()).unwrap();
        let e = parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert!(e.test && e.test_signed, "{kind}");
        assert_ne!(e.kind, EventKind::Other, "{kind}");
    }
}

#[test]
fn incomplete_test_payloads_are_still_tests() {
    let e = parse(br#"{"type":"paid","signature":"test"}"#).unwrap();
    assert!(e.test);
    assert_eq!(e.kind, EventKind::Other);
}

#[test]
fn the_stored_body_does_not_keep_the_signature() {
    let body = signed(json!({"type": "paid", "id": "X"}));
    let stored = payhip().stored_body(&body);
    assert!(!stored.contains(&sha256_hex(KEY.as_bytes())));
    assert!(stored.contains("\"redacted\""));
}

#[test]
fn unknown_types_are_recorded_by_body() {
    let body = signed(json!({"type": "payout.sent", "id": 7}));
    let e = parse(&body).unwrap();
    assert_eq!(e.kind, EventKind::Other);
    assert_eq!(e.external_id, "7");
    assert_eq!(
        e.idempotency_key,
        format!("payout.sent:{}", sha256_hex(&body))
    );
}
