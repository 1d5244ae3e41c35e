use serde_json::json;

use super::*;
use crate::domain::{Detail, EventKind, Money};

const TOKEN: &str = "0f9e8d7c-6b5a-4938-a7b6-c5d4e3f2a1b0";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/kofi/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).expect("fixture exists")).unwrap()
}

/// The form Ko-fi posts: `data=<the JSON>`, with `token` as its verification token.
fn form(mut data: Value, token: &str) -> Vec<u8> {
    data["verification_token"] = json!(token);
    form_urlencoded::Serializer::new(String::new())
        .append_pair("data", &data.to_string())
        .finish()
        .into_bytes()
}

fn kofi() -> Kofi {
    Kofi::new(Some(&Secret::new(TOKEN)))
}

fn post(name: &str) -> Event {
    kofi()
        .parse(&HeaderMap::new(), &form(fixture(name), TOKEN), Utc::now())
        .expect("accepted")
}

#[test]
fn only_the_accounts_verification_token_is_accepted_and_it_is_never_stored() {
    let at = Utc::now();
    let k = kofi();
    let good = form(fixture("donation"), TOKEN);
    assert!(k.parse(&HeaderMap::new(), &good, at).is_ok());
    for (case, body) in [
        ("wrong token", form(fixture("donation"), "guess")),
        ("no token", {
            let mut d = fixture("donation");
            d.as_object_mut().unwrap().remove("verification_token");
            form_urlencoded::Serializer::new(String::new())
                .append_pair("data", &d.to_string())
                .finish()
                .into_bytes()
        }),
    ] {
        let e = k.parse(&HeaderMap::new(), &body, at).expect_err(case);
        assert!(matches!(e, ProviderError::BadSignature(_)), "{case}");
    }
    for body in [&b"amount=3.00"[..], b"data=not%20json"] {
        let e = k.parse(&HeaderMap::new(), body, at).unwrap_err();
        assert!(matches!(e, ProviderError::Malformed(_)), "{e:?}");
    }
    let stored = k.stored_body(&good);
    assert!(
        !stored.contains(TOKEN) && stored.contains("redacted"),
        "{stored}"
    );
    let unset = Kofi::new(None).parse(&HeaderMap::new(), &good, at);
    assert!(matches!(unset, Err(ProviderError::NotConfigured(_))));
}

#[test]
fn every_payment_type_is_a_sale_in_exact_cents() {
    for (name, minor, product) in [
        ("donation", 450, "Donation"),
        ("subscription_first", 500, "Membership: Bronze"),
        ("subscription_renewal", 500, "Membership: Bronze"),
        ("commission", 12000, "Commission"),
        ("shop_order", 2795, "Shop item k7m2p9x4q1"),
    ] {
        let e = post(name);
        assert_eq!(e.kind, EventKind::Sale, "{name}");
        assert_eq!(e.amount(), Some(&Money::new(minor, "EUR")), "{name}");
        let Detail::Sale(s) = &e.detail else { panic!() };
        assert_eq!(s.items[0].name, product, "{name}");
    }
    let first = post("subscription_first");
    let renewal = post("subscription_renewal");
    let variant = |e: &Event| match &e.detail {
        Detail::Sale(s) => s.items[0].variant.clone(),
        _ => None,
    };
    assert_eq!(variant(&first).as_deref(), Some("first payment"));
    assert_eq!(variant(&renewal).as_deref(), Some("renewal"));
    assert_eq!(first.comment, None, "a private message is never shown");
    assert_eq!(
        post("donation").comment.as_deref(),
        Some("Thanks for the tutorials!")
    );
    let order = post("shop_order");
    let Detail::Sale(s) = &order.detail else {
        panic!()
    };
    assert_eq!((s.items.len(), s.items[1].quantity), (2, 5));
    assert_eq!(s.items[1].variant.as_deref(), Some("Sticker pack"));
    assert_eq!(
        order.idempotency_key,
        "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f"
    );
    assert_eq!(order.external_id, "5d6e7f80-91a2-4b3c-8d4e-5f6a7b8c9d0e");
}

#[test]
fn amounts_are_never_rounded_and_the_examples_transaction_id_is_not_shared() {
    let mut d = fixture("donation");
    d["amount"] = json!("3.005");
    let kept = kofi()
        .parse(&HeaderMap::new(), &form(d, TOKEN), Utc::now())
        .unwrap();
    assert!(matches!(kept.detail, Detail::Unreadable(_)), "{kept:?}");
    let mut yen = fixture("donation");
    yen["amount"] = json!("500");
    yen["currency"] = json!("JPY");
    let e = kofi()
        .parse(&HeaderMap::new(), &form(yen, TOKEN), Utc::now())
        .unwrap();
    assert_eq!(e.amount(), Some(&Money::new(500, "JPY")));
    let mut example = fixture("donation");
    example["kofi_transaction_id"] = json!("00000000-1111-2222-3333-444444444444");
    let e = kofi()
        .parse(&HeaderMap::new(), &form(example, TOKEN), Utc::now())
        .unwrap();
    assert_eq!(e.external_id, "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e");
}

#[test]
fn a_post_with_a_new_token_is_kept_with_the_token_sealed_and_restored_by_it() {
    let at = Utc::now();
    let new = "aaaabbbb-cccc-dddd-eeee-ffff00001111";
    let body = form(fixture("shop_order"), new);
    let kept = kofi()
        .quarantine(&HeaderMap::new(), &body, at)
        .expect("a Ko-fi payment");
    assert!(!String::from_utf8_lossy(&kept.body).contains(new));
    let unsealed = Kofi::new(Some(&Secret::new(new))).unseal(kept.clone());
    assert_eq!(unsealed.body, body);
    assert_eq!(
        kofi().unseal(kept.clone()),
        kept,
        "the old token does not unseal it"
    );
    assert!(kofi()
        .quarantine(&HeaderMap::new(), b"data=%7B%7D", at)
        .is_none());
}
