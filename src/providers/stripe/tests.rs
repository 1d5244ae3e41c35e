use chrono::TimeZone;
use serde_json::json;

use super::*;
use crate::domain::{Detail, EventKind, Money, RefundScope, Risk};

const SECRET: &str = "whsec_test_secret";

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/stripe/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture exists")
}

fn headers(value: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("stripe-signature", value.parse().unwrap());
    h
}

fn stripe() -> Stripe {
    Stripe::new(Some(&Secret::new(SECRET)))
}

/// Signs `body` at `now` and parses it at `now`.
fn signed(body: &[u8]) -> Event {
    let now = at(1_767_300_000);
    let h = headers(&signature_header(
        now.timestamp(),
        body,
        &Secret::new(SECRET),
    ));
    stripe().parse(&h, body, now).expect("accepted")
}

fn parse_value(v: serde_json::Value) -> Event {
    signed(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn signatures_are_checked_over_the_exact_bytes_within_five_minutes() {
    let body = fixture("payment_intent_succeeded");
    let secret = Secret::new(SECRET);
    let now = at(1_767_300_000);
    let t = now.timestamp();
    let good = signature(t, &body, &secret);
    let other = signature(t, &body, &Secret::new("whsec_old"));
    let reencoded =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).unwrap()).unwrap();
    let ok = |h: &str, body: &[u8], now| stripe().parse(&headers(h), body, now);
    assert!(ok(&format!("t={t},v1={good}"), &body, now).is_ok());
    // While a secret is rolled, Stripe sends one v1 per secret (and may add a v0).
    assert!(ok(&format!("t={t},v1={other},v1={good},v0=abc"), &body, now).is_ok());
    assert!(ok(
        &format!("t={t},v1={good}"),
        &body,
        at(t + TOLERANCE_SECONDS)
    )
    .is_ok());
    for (case, header, body, now) in [
        (
            "wrong secret",
            format!("t={t},v1={other}"),
            body.clone(),
            now,
        ),
        (
            "re-encoded body",
            format!("t={t},v1={good}"),
            reencoded,
            now,
        ),
        ("no v1", format!("t={t},v0={good}"), body.clone(), now),
        ("no timestamp", format!("v1={good}"), body.clone(), now),
        (
            "other timestamp",
            format!("t={},v1={good}", t + 1),
            body.clone(),
            now,
        ),
        (
            "stale",
            format!("t={t},v1={good}"),
            body.clone(),
            at(t + TOLERANCE_SECONDS + 1),
        ),
    ] {
        let e = ok(&header, &body, now).expect_err(case);
        assert!(matches!(e, ProviderError::BadSignature(_)), "{case}: {e:?}");
    }
    let missing = stripe().parse(&HeaderMap::new(), &body, now).unwrap_err();
    assert!(matches!(missing, ProviderError::BadSignature(_)));
    let unset = Stripe::new(None).parse(&headers("t=1,v1=00"), &body, now);
    assert!(matches!(unset, Err(ProviderError::NotConfigured(_))));
}

#[test]
fn amounts_are_stripe_minor_units_zero_decimal_currencies_included() {
    assert_eq!(money(1099, "usd").unwrap(), Money::new(1099, "USD"));
    assert_eq!(money(1500, "jpy").unwrap(), Money::new(1500, "JPY"));
    assert_eq!(money(1500, "jpy").unwrap().to_string(), "¥1500");
    assert_eq!(money(12340, "kwd").unwrap().to_string(), "12.340 KWD");
    // Stripe counts ISK in hundredths and MGA in whole units; ISO the other way round.
    assert_eq!(money(50000, "isk").unwrap(), Money::new(500, "ISK"));
    assert!(
        money(50050, "isk").is_err(),
        "half a króna is never rounded"
    );
    assert_eq!(money(5000, "mga").unwrap(), Money::new(500_000, "MGA"));
}

#[test]
fn a_checkout_and_its_payment_intent_are_one_payment() {
    let session = signed(&fixture("checkout_session_completed"));
    let intent = signed(&fixture("payment_intent_succeeded"));
    for e in [&session, &intent] {
        assert_eq!(e.kind, EventKind::Sale);
        assert_eq!(e.external_id, "pi_3QkV7sLbT2mQ9xWe0ZcR4Hn1");
        assert_eq!(e.amount(), Some(&Money::new(2500, "EUR")));
        assert!(!e.test);
    }
    assert_ne!(session.idempotency_key, intent.idempotency_key);
    assert_eq!(session.idempotency_key, "evt_1QkV8aLbT2mQ9xWeCs01Ab2c");
    assert_eq!(session.customer.email.as_deref(), Some("ada@example.org"));
    let Detail::Sale(s) = &session.detail else {
        panic!()
    };
    assert_eq!(s.vat_minor, Some(399));
    assert_eq!(session.occurred_at, at(1_767_268_800));
}

#[test]
fn checkouts_not_yet_paid_or_without_payment_are_no_sale() {
    let session = |mode: &str, status: &str, invoice: serde_json::Value| {
        parse_value(
            json!({"id": "evt_1", "type": "checkout.session.completed", "created": 1767268800,
            "livemode": true, "data": {"object": {"id": "cs_1", "mode": mode, "payment_status": status,
            "amount_total": 900, "currency": "usd", "payment_intent": null, "invoice": invoice}}}),
        )
    };
    assert_eq!(
        session("payment", "unpaid", json!(null)).kind,
        EventKind::Other
    );
    assert_eq!(
        session("setup", "no_payment_required", json!(null)).kind,
        EventKind::Other
    );
    assert_eq!(
        session("subscription", "paid", json!(null)).kind,
        EventKind::Other
    );
    let first = session("subscription", "paid", json!("in_1"));
    assert_eq!(
        (first.kind, first.external_id.as_str()),
        (EventKind::Sale, "in_1")
    );
}

#[test]
fn refunds_give_what_this_event_returned() {
    // Current API versions: the charge and its earlier `amount_refunded`.
    let partial = signed(&fixture("charge_refunded_partial"));
    let Detail::Refund(r) = &partial.detail else {
        panic!("{partial:?}")
    };
    assert_eq!(r.amount, Money::new(1000, "EUR"));
    assert_eq!(r.sale_external_id, "pi_3QkV7sLbT2mQ9xWe0ZcR4Hn1");
    assert_eq!(r.scope, RefundScope::Partial);
    assert_eq!(r.original_total, Some(Money::new(2500, "EUR")));
    // Older API versions: the charge's refunds, newest first.
    let rest = signed(&fixture("charge_refunded_full"));
    let Detail::Refund(r) = &rest.detail else {
        panic!()
    };
    assert_eq!(r.amount, Money::new(1500, "EUR"));
    assert_eq!(r.reason.as_deref(), Some("requested by customer"));
    // All at once.
    let whole = parse_value(
        json!({"id": "evt_2", "type": "charge.refunded", "created": 1767268800,
        "data": {"object": {"id": "ch_9", "amount": 800, "amount_refunded": 800, "currency": "gbp",
            "payment_intent": "pi_9", "refunds": {"data": [{"amount": 800, "reason": "fraudulent"}]}},
            "previous_attributes": {"amount_refunded": 0, "refunded": false}}}),
    );
    let Detail::Refund(r) = &whole.detail else {
        panic!()
    };
    assert_eq!((r.scope, r.risk), (RefundScope::Whole, Some(Risk::Fraud)));
    assert_eq!(r.amount, Money::new(800, "GBP"));
    // Neither: the total so far, of which storage counts what is new.
    let so_far = parse_value(json!({"id": "evt_6", "type": "charge.refunded",
        "data": {"object": {"id": "ch_9", "amount": 800, "amount_refunded": 300, "currency": "gbp"}}}));
    let Detail::Refund(r) = &so_far.detail else {
        panic!()
    };
    assert_eq!((r.scope, r.amount.minor), (RefundScope::Cumulative, 300));
}

#[test]
fn disputes_subscriptions_and_renewals() {
    let d = signed(&fixture("charge_dispute_created"));
    assert_eq!(d.kind, EventKind::Dispute);
    let Detail::Dispute(dispute) = &d.detail else {
        panic!()
    };
    assert_eq!(dispute.transaction_id, "pi_3QkV7sLbT2mQ9xWe0ZcR4Hn1");
    assert_eq!(dispute.amount, Some(Money::new(2500, "EUR")));
    assert!(dispute.opened);

    let started = signed(&fixture("customer_subscription_created"));
    let ended = signed(&fixture("customer_subscription_deleted"));
    assert_eq!(started.kind, EventKind::SubscriptionStarted);
    assert_eq!(ended.kind, EventKind::SubscriptionCancelled);
    let (Detail::Subscription(s), Detail::Subscription(c)) = (&started.detail, &ended.detail)
    else {
        panic!()
    };
    assert_eq!(s.subscription_id, "sub_1QkVa2LbT2mQ9xWeHb4Nc8Rt");
    assert_eq!(s.amount, Some(Money::new(900, "EUR")));
    assert_eq!(s.plan.as_deref(), Some("Supporter"));
    assert_eq!(s.started_at, Some(at(1_767_268_800)));
    assert_eq!(c.cancelled_at, Some(at(1_767_268_800 + 40 * 86_400)));

    let renewal = signed(&fixture("invoice_paid"));
    assert_eq!(renewal.kind, EventKind::Sale);
    assert_eq!(renewal.external_id, "in_1QnB4cLbT2mQ9xWeIv7Ce2Xp");
    assert_eq!(renewal.amount(), Some(&Money::new(900, "EUR")));
    let Detail::Sale(s) = &renewal.detail else {
        panic!()
    };
    assert_eq!(s.items[0].name, "1 × Supporter (at €9.00 / month)");
    assert_eq!(
        s.items[0].product_id.as_deref(),
        Some("prod_RdQpT4mXb7Kc2Z")
    );
}

#[test]
fn test_mode_events_are_tests_and_unknown_types_are_kept() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&fixture("payment_intent_succeeded_jpy")).unwrap();
    let live = parse_value(v.clone());
    assert_eq!(live.amount(), Some(&Money::new(1500, "JPY")));
    v["livemode"] = json!(false);
    assert!(parse_value(v.clone()).test);
    v["type"] = json!("customer.created");
    let other = parse_value(v);
    assert_eq!(other.kind, EventKind::Other);
    let free = parse_value(
        json!({"id": "evt_3", "type": "invoice.paid", "data": {"object": {
        "id": "in_0", "amount_paid": 0, "currency": "usd", "billing_reason": "subscription_create"}}}),
    );
    assert_eq!(
        free.kind,
        EventKind::Other,
        "a free trial invoice is no sale"
    );
}

#[test]
fn a_signed_event_that_cannot_be_read_is_kept_raw_not_refused() {
    for body in [
        json!({"id": "evt_4", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_4",
            "amount_received": 100}}}),
        json!({"type": "payment_intent.succeeded"}),
        json!({"id": "evt_5", "type": "charge.refunded", "data": {"object": {"id": "ch_5",
            "amount_refunded": "lots", "currency": "usd"}}}),
    ] {
        let e = parse_value(body.clone());
        let Detail::Unreadable(u) = &e.detail else {
            panic!("{body}: {e:?}")
        };
        assert!(u.reason.contains('`'), "names the field: {}", u.reason);
        assert!(crate::bounds::out_of_range(&e, Utc::now()).is_some());
    }
    let not_json = signed(b"not json");
    assert!(matches!(not_json.detail, Detail::Unreadable(_)));
}

#[test]
fn a_refused_event_is_kept_with_its_signature_header_and_junk_is_not() {
    let body = fixture("checkout_session_completed");
    let h = headers(&signature_header(1, &body, &Secret::new("another secret")));
    let kept = stripe()
        .quarantine(&h, &body, at(1))
        .expect("a Stripe event");
    assert_eq!(kept.body, body);
    assert_eq!(kept.headers[0].0, "stripe-signature");
    assert!(stripe()
        .quarantine(&HeaderMap::new(), &body, at(1))
        .is_none());
    assert!(stripe().quarantine(&h, b"{\"a\":1}", at(1)).is_none());
}
