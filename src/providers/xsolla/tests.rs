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
    let no_id = parse(json!({"notification_type": "order_paid",
        "order": {"amount": "1", "currency": "USD", "invoice_id": "70"}}))
    .unwrap();
    let Detail::Unreadable(u) = &no_id.detail else {
        panic!("{no_id:?}")
    };
    assert!(u.reason.contains("order.id"), "{}", u.reason);
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
    assert_eq!(
        paid.external_id, "order-555",
        "no payment: keyed by the order"
    );
    let cancelled = parse(json!({"notification_type": "order_canceled",
        "order": {"id": 555, "amount": "19.98", "currency": "USD"}}))
    .unwrap();
    let Detail::Refund(r) = &cancelled.detail else {
        panic!()
    };
    assert_eq!(r.sale_external_id, "order-555");
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

fn fixture(name: &str) -> Event {
    let path = format!(
        "{}/tests/fixtures/xsolla/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let body = std::fs::read(path).unwrap();
    Xsolla::new(Some(&Secret::new(SECRET)))
        .parse(&headers_for(&body), &body, Utc::now())
        .unwrap()
}

#[test]
fn a_payment_and_its_store_order_are_keyed_as_one_purchase() {
    let payment = fixture("purchase_payment");
    let order = fixture("purchase_order_paid");
    assert_eq!(payment.external_id, "48151623");
    assert_eq!(order.external_id, payment.external_id);
    let (Detail::Sale(p), Detail::Sale(o)) = (&payment.detail, &order.detail) else {
        panic!()
    };
    assert_eq!(p.total, o.total);
    assert_eq!((p.fees_minor, o.fees_minor), (Some(200), Some(200)));
    assert_eq!(o.order_id.as_deref(), Some("10077"));
    assert_eq!(
        order.idempotency_key, "order_paid:10077",
        "another order of the same invoice is another notification"
    );
    assert_eq!(o.payment_method.as_deref(), Some("Xsolla Store (PayPal)"));
    let refund = fixture("purchase_refund");
    let cancel = fixture("purchase_order_canceled");
    for e in [&refund, &cancel] {
        let Detail::Refund(r) = &e.detail else {
            panic!()
        };
        assert_eq!(r.sale_external_id, "48151623");
        assert_eq!(r.scope, crate::domain::RefundScope::Whole);
    }
}

#[test]
fn partial_refunds_are_refunds_of_their_own_amount_each_kept() {
    let e = fixture("partial_refund");
    assert_eq!(e.kind, EventKind::Refund);
    let Detail::Refund(r) = &e.detail else {
        panic!()
    };
    assert_eq!(r.amount, Money::new(1000, "USD"));
    assert_eq!(r.scope, crate::domain::RefundScope::Partial);
    assert_eq!(r.sale_external_id, "48151623");
    assert!(
        e.idempotency_key.starts_with("partial_refund:"),
        "told apart by body"
    );
    assert_ne!(
        e.idempotency_key,
        fixture("purchase_refund").idempotency_key
    );
}

#[test]
fn virtual_currency_is_named_and_never_money() {
    let order = fixture("order_paid_virtual");
    assert_eq!(order.kind, EventKind::Sale);
    let total = order.amount().unwrap();
    assert!(total.virtual_currency);
    assert_eq!(total.to_string(), "1200 crystals (virtual currency)");
    let pack = fixture("payment_currency_pack");
    let Detail::Sale(s) = &pack.detail else {
        panic!()
    };
    assert_eq!(s.total, Money::new(499, "USD"));
    assert_eq!(s.items[0].name, "500 Crystals");
}

#[test]
fn disputes_blocked_payments_and_non_renewals_have_their_own_kinds() {
    let d = fixture("dispute");
    assert_eq!(d.kind, EventKind::Dispute);
    let Detail::Dispute(dispute) = &d.detail else {
        panic!()
    };
    assert!(dispute.opened);
    assert_eq!(d.amount(), Some(&Money::new(2499, "USD")));
    let b = fixture("afs_reject");
    assert_eq!(b.kind, EventKind::PaymentBlocked);
    assert_eq!(b.amount(), None, "never revenue");
    let n = fixture("non_renewal_subscription");
    assert_eq!(n.kind, EventKind::SubscriptionNotRenewing);
}

#[test]
fn a_refused_notification_is_kept_with_its_authorization_and_junk_is_not() {
    let body = serde_json::to_vec(&json!({
        "notification_type": "payment",
        "purchase": {"total": {"currency": "USD", "amount": 9.99}},
        "transaction": {"id": 1, "dry_run": 0},
        "user": {"id": "u"}
    }))
    .unwrap();
    let xsolla = Xsolla::new(Some(&Secret::new("the new secret")));
    let kept = xsolla
        .quarantine(&headers_for(&body), &body, Utc::now())
        .expect("an Xsolla notification");
    assert_eq!(kept.headers[0].0, "authorization");
    assert!(xsolla
        .quarantine(&HeaderMap::new(), &body, Utc::now())
        .is_none());
    assert!(xsolla
        .quarantine(&headers_for(b"[]"), b"[]", Utc::now())
        .is_none());
}
