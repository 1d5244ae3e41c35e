use super::*;
use crate::domain::Money;

const SECRET: &str = "xsolla-secret";

fn headers_for(body: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    let sig = signature(body, &Secret::new(SECRET));
    h.insert("authorization", format!("Signature {sig}").parse().unwrap());
    h
}

fn parse(v: Value) -> Result<Event, ProviderError> {
    let body = serde_json::to_vec(&v).unwrap();
    Xsolla::new(Some(&Secret::new(SECRET))).parse(&headers_for(&body), &body, Utc::now())
}

#[test]
fn payment_amounts_become_exact_minor_units() {
    for (amount, currency, minor) in [
        (json!("2.00"), "USD", 200),
        (json!(9.99), "EUR", 999),
        (json!(1200), "JPY", 1200),
        (json!("0.1"), "USD", 10),
    ] {
        let e = parse(json!({
            "notification_type": "payment",
            "transaction": {"id": 87654321, "payment_date": "2026-11-20T10:00:00+03:00", "dry_run": 0},
            "purchase": {"total": {"amount": amount, "currency": currency}},
            "user": {"id": "u1", "email": "gamer@example.com"}
        }))
        .unwrap();
        assert_eq!(e.kind, EventKind::Sale);
        assert_eq!(e.idempotency_key, "payment:87654321");
        assert_eq!(e.amount(), Some(&Money::new(minor, currency)));
        assert_eq!(e.occurred_at.to_rfc3339(), "2026-11-20T07:00:00+00:00");
    }
}

#[test]
fn a_signed_body_that_cannot_be_read_is_kept_raw_rather_than_refused() {
    // Sub-cent amounts are never rounded; a missing amount is never guessed.
    for body in [
        json!({"notification_type": "payment", "transaction": {"id": 1},
            "purchase": {"total": {"amount": "1.005", "currency": "USD"}}}),
        json!({"notification_type": "order_paid", "order": {"id": 7, "currency": "USD", "invoice_id": "70"}}),
    ] {
        let e = parse(body.clone()).expect("a signed body is never refused");
        let Detail::Unreadable(u) = &e.detail else {
            panic!("{body}: {e:?}")
        };
        assert!(u.reason.contains("amount"), "{}", u.reason);
        assert_eq!(e.kind, EventKind::Other);
        let why = crate::bounds::out_of_range(&e, Utc::now()).expect("never counted");
        assert!(why.contains("could not be read"), "{why}");
    }
    let garbage = parse(json!({"notification_type": "order_paid", "items": "none"})).unwrap();
    assert_eq!(garbage.event_type, "order_paid");
    assert!(garbage
        .idempotency_key
        .starts_with("unreadable:order_paid:"));
}

#[test]
fn store_orders_and_cancellations() {
    let paid = parse(json!({"notification_type": "order_paid",
        "order": {"id": 555, "amount": "19.98", "currency": "USD", "status": "paid"},
        "items": [{"sku": "gems-100", "quantity": 2, "amount": "9.99"}]}))
    .unwrap();
    assert_eq!(paid.kind, EventKind::Sale);
    assert_eq!(paid.external_id, "555");
    let cancelled = parse(json!({"notification_type": "order_canceled",
        "order": {"id": 555, "amount": "19.98", "currency": "USD"}}))
    .unwrap();
    let Detail::Refund(r) = &cancelled.detail else {
        panic!()
    };
    assert_eq!(r.sale_external_id, "555");
}

#[test]
fn dry_runs_are_tests_and_unknown_types_are_kept() {
    let e = parse(
        json!({"notification_type": "payment", "transaction": {"id": 2, "dry_run": 1},
        "purchase": {"total": {"amount": "1", "currency": "USD"}}}),
    )
    .unwrap();
    assert!(e.test);
    let v = parse(json!({"notification_type": "user_validation", "user": {"id": "u1"}})).unwrap();
    assert_eq!(v.kind, EventKind::Other);
}

#[test]
fn signatures_are_checked_over_the_exact_bytes() {
    let x = Xsolla::new(Some(&Secret::new(SECRET)));
    let body = br#"{"notification_type": "payment"}"#;
    let reencoded = br#"{"notification_type":"payment"}"#;
    let r = x.parse(&headers_for(body), reencoded, Utc::now());
    assert!(matches!(r, Err(ProviderError::BadSignature(_))));
    let r = x.parse(&HeaderMap::new(), body, Utc::now());
    assert!(matches!(r, Err(ProviderError::BadSignature(_))));
    let (status, reply) = x.rejected(&r.unwrap_err());
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.unwrap()["error"]["code"], "INVALID_SIGNATURE");
}
