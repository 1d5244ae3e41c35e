use super::*;
use crate::domain::{Detail, EventKind, Money, RefundScope};
use crate::providers::with_query;

const TOKEN: &str = "gumroad-token-of-my-own";
const SELLER: &str = "Qm9vbGVhbkRyZWFtcw==";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/gumroad/{name}.form",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut body = std::fs::read(path).expect("fixture exists");
    while body.last() == Some(&b'\n') {
        body.pop();
    }
    body
}

fn headers(query: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    with_query(h, query)
}

fn gumroad(seller: Option<&str>) -> Gumroad {
    Gumroad::new(Some(&Secret::new(TOKEN)), seller.map(Secret::new).as_ref())
}

fn ping(name: &str) -> Event {
    gumroad(Some(SELLER))
        .parse(
            &headers(Some(&format!("token={TOKEN}"))),
            &fixture(name),
            Utc::now(),
        )
        .expect("accepted")
}

#[test]
fn only_the_token_in_the_url_and_the_sellers_own_id_are_accepted() {
    let body = fixture("sale");
    let at = Utc::now();
    let ok = |g: Gumroad, q: Option<&str>| g.parse(&headers(q), &body, at);
    assert!(ok(gumroad(None), Some(&format!("token={TOKEN}"))).is_ok());
    assert!(ok(
        gumroad(None),
        Some(&format!("a=1&token={}", TOKEN.replace('-', "%2D")))
    )
    .is_ok());
    for (case, query) in [
        ("no query", None),
        ("no token", Some("a=1")),
        ("wrong token", Some("token=guess")),
        ("a prefix", Some("token=gumroad")),
    ] {
        let e = ok(gumroad(None), query).expect_err(case);
        assert!(matches!(e, ProviderError::BadSignature(_)), "{case}");
    }
    let other_seller = ok(
        gumroad(Some("someone-else")),
        Some(&format!("token={TOKEN}")),
    );
    assert!(matches!(other_seller, Err(ProviderError::BadSignature(_))));
    // A sender cannot pass the token as a header of the router's own name.
    let mut forged = headers(None);
    forged.insert(
        crate::providers::QUERY_HEADER,
        format!("token={TOKEN}").parse().unwrap(),
    );
    let forged = with_query(forged, None);
    assert!(gumroad(None).parse(&forged, &body, at).is_err());
    let unset = Gumroad::new(None, None).parse(&headers(Some("token=x")), &body, at);
    assert!(matches!(unset, Err(ProviderError::NotConfigured(_))));
}

#[test]
fn a_sale_in_exact_cents_with_its_product_variant_coupon_and_fee() {
    let e = ping("sale");
    assert_eq!(e.kind, EventKind::Sale);
    assert_eq!(e.external_id, "Zk9hY2xXbW5iQ0RlRmdI==");
    assert_eq!(e.idempotency_key, "sale:Zk9hY2xXbW5iQ0RlRmdI==");
    assert_eq!(e.amount(), Some(&Money::new(1500, "EUR")));
    assert_eq!(e.occurred_at.to_rfc3339(), "2026-03-14T09:26:53+00:00");
    assert!(!e.test);
    let Detail::Sale(s) = &e.detail else { panic!() };
    assert_eq!(s.fees_minor, Some(175));
    assert_eq!(s.items[0].name, "Watercolour Brushes: Autumn Set");
    assert_eq!(s.items[0].variant.as_deref(), Some("Licence: Commercial"));
    assert!(s.items[0].license_key.is_some());
    assert_eq!(s.coupons[0].code, "SPRING10");
    assert_eq!(e.customer.name.as_deref(), Some("Ada Lovelace"));
}

#[test]
fn refunds_disputes_and_memberships() {
    let refund = ping("refund");
    let Detail::Refund(r) = &refund.detail else {
        panic!()
    };
    assert_eq!((r.amount.minor, r.scope), (1500, RefundScope::Whole));
    assert_eq!(r.sale_external_id, "Zk9hY2xXbW5iQ0RlRmdI==");
    assert_eq!(
        ping("refund_partial").kind,
        EventKind::Other,
        "no amount given"
    );
    let dispute = ping("dispute");
    let won = ping("dispute_won");
    assert!(matches!(&dispute.detail, Detail::Dispute(d) if d.opened));
    assert!(matches!(&won.detail, Detail::Dispute(d) if !d.opened));
    let kinds: Vec<EventKind> = [
        "cancellation",
        "subscription_ended",
        "subscription_restarted",
    ]
    .iter()
    .map(|n| ping(n).kind)
    .collect();
    assert_eq!(
        kinds,
        [
            EventKind::SubscriptionNotRenewing,
            EventKind::SubscriptionCancelled,
            EventKind::SubscriptionStarted
        ]
    );
    let restarted = ping("subscription_restarted");
    let Detail::Subscription(s) = &restarted.detail else {
        panic!()
    };
    assert_eq!(
        s.started_at.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-05-01T08:00:00+00:00"),
        "dated by the restart, so it reopens"
    );
}

#[test]
fn a_retried_ping_keeps_its_key_and_each_test_press_is_its_own() {
    let mut retried = fixture("refund_partial");
    retried.extend_from_slice(b"&retry_count=1");
    let g = gumroad(None);
    let q = headers(Some(&format!("token={TOKEN}")));
    let first = g.parse(&q, &fixture("refund_partial"), Utc::now()).unwrap();
    let again = g.parse(&q, &retried, Utc::now()).unwrap();
    assert_eq!(first.idempotency_key, again.idempotency_key);
    let now = Utc::now();
    let t1 = g.parse(&q, &fixture("test_ping"), now).unwrap();
    let later = now + chrono::Duration::seconds(30);
    let t2 = g.parse(&q, &fixture("test_ping"), later).unwrap();
    assert!(t1.test && t1.kind == EventKind::Sale);
    assert_ne!(t1.idempotency_key, t2.idempotency_key);
    assert_ne!(t1.idempotency_key, ping("sale").idempotency_key);
}

#[test]
fn json_pings_read_like_forms_and_unreadable_ones_are_kept() {
    let g = gumroad(None);
    let mut h = headers(Some(&format!("token={TOKEN}")));
    h.insert("content-type", "application/json".parse().unwrap());
    let body = br#"{"sale_id":"s1","price":700,"currency":"usd","product_name":"Zine","variants":{"Size":"A5"},"card":{"visual":null}}"#;
    let e = g.parse(&h, body, Utc::now()).unwrap();
    assert_eq!(e.amount(), Some(&Money::new(700, "USD")));
    let Detail::Sale(s) = &e.detail else { panic!() };
    assert_eq!(s.items[0].variant.as_deref(), Some("Size: A5"));
    let fraction = g
        .parse(
            &headers(Some(&format!("token={TOKEN}"))),
            b"sale_id=s2&price=7.5",
            Utc::now(),
        )
        .unwrap();
    assert!(
        matches!(fraction.detail, Detail::Unreadable(_)),
        "{fraction:?}"
    );
    let broken = g.parse(&h, b"{not json", Utc::now()).unwrap();
    assert!(matches!(broken.detail, Detail::Unreadable(_)));
}

#[test]
fn a_ping_with_a_new_token_is_kept_with_the_token_sealed_and_restored_by_it() {
    let at = Utc::now();
    let new = "my-new-gumroad-token";
    let h = headers(Some(&format!("token={new}&other=1")));
    let kept = gumroad(None)
        .quarantine(&h, &fixture("sale"), at)
        .expect("a Gumroad sale");
    assert!(kept.headers.iter().all(|(_, v)| !v.contains(new)));
    let fixed = Gumroad::new(Some(&Secret::new(new)), None);
    let unsealed = fixed.unseal(kept.clone());
    let mut map = HeaderMap::new();
    for (n, v) in &unsealed.headers {
        map.insert(
            axum::http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    assert!(fixed.parse(&map, &unsealed.body, at).is_ok());
    assert_eq!(gumroad(None).unseal(kept.clone()), kept);
    assert!(gumroad(None)
        .quarantine(&headers(Some("other=1")), &fixture("sale"), at)
        .is_none());
}
