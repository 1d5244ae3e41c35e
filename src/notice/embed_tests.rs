//! Unit tests of `embed`, kept beside it so the module itself stays short.

use super::*;
use crate::domain::{Customer, Refund, Sale, Subscription};

fn style() -> Style<'static> {
    Style {
        color: 0x00FF00,
        provider_label: "Payhip",
        show_customer: false,
        template: None,
    }
}

fn base(kind: EventKind, detail: Detail) -> Event {
    Event {
        provider: "payhip".into(),
        event_type: "paid".into(),
        kind,
        idempotency_key: "k".into(),
        external_id: "TX1".into(),
        occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        test: false,
        test_signed: false,
        customer: Customer {
            name: Some("Ada Lovelace".into()),
            email: Some("ada@example.com".into()),
        },
        url: None,
        comment: None,
        detail,
    }
}

fn sale() -> Event {
    base(
        EventKind::Sale,
        Detail::Sale(Sale {
            total: Money::new(2999, "EUR"),
            fees_minor: Some(267),
            items: vec![Item {
                product_id: None,
                name: "Course".into(),
                quantity: 2,
                variant: Some("Pro".into()),
                on_sale: true,
                amount_minor: None,
                ..Default::default()
            }],
            coupons: vec![Coupon {
                code: "SPRING".into(),
                percentage: Some("20".into()),
                amount_minor: Some(750),
            }],
            payment_method: Some("PayPal".into()),
            vat_applied: Some(true),
            transaction_id: None,
            ..Default::default()
        }),
    )
}

fn field<'m>(m: &'m Message, name: &str) -> &'m str {
    &m.embeds[0]
        .fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name}: {m:?}"))
        .value
}

#[test]
fn a_sale_shows_money_in_its_currency_and_what_the_seller_keeps() {
    let m = notice(&sale(), &style()).unwrap();
    let e = &m.embeds[0];
    assert_eq!(e.title, "New Sale Completed");
    assert_eq!(e.color, 0x00FF00);
    assert_eq!(field(&m, "Total"), "€29.99");
    assert_eq!(field(&m, "You keep"), "€27.32 (fees €2.67)");
    assert_eq!(field(&m, "Products"), "• Course (Pro) ×2 (SALE)");
    assert_eq!(field(&m, "Coupon"), "`SPRING` (20%, saved €7.50)");
    assert_eq!(field(&m, "VAT applied"), "Yes");
    assert_eq!(field(&m, "Customer"), "Hidden for privacy");
    assert_eq!(e.footer.as_ref().unwrap().text, "Payhip");
    assert_eq!(e.timestamp.as_deref(), Some("2023-11-14T22:13:20Z"));
    assert!(m.content.is_none());
}

#[test]
fn customers_show_only_when_allowed_and_masked() {
    let mut s = style();
    s.show_customer = true;
    let m = notice(&sale(), &s).unwrap();
    assert_eq!(
        field(&m, "Customer"),
        r"Ada Lovelace (ad\*\*\*@example.com)"
    );
    assert!(!serde_json::to_string(&m)
        .unwrap()
        .contains("ada@example.com"));
}

#[test]
fn refunds_and_subscriptions_have_their_own_titles_and_dates() {
    let refund = base(
        EventKind::Refund,
        Detail::Refund(Refund {
            amount: Money::new(1000, "JPY"),
            sale_external_id: "TX1".into(),
            original_total: None,
            purchased_at: DateTime::from_timestamp(1_600_000_000, 0),
            items: vec![],
            payment_method: None,
            vat_applied: None,
            reason: None,
            ..Default::default()
        }),
    );
    let m = notice(&refund, &style()).unwrap();
    assert_eq!(m.embeds[0].title, "Refund Issued");
    assert_eq!(field(&m, "Refunded"), "¥1000");
    assert_eq!(field(&m, "Purchased"), "<t:1600000000:f>");

    let cancelled = base(
        EventKind::SubscriptionCancelled,
        Detail::Subscription(Subscription {
            subscription_id: "S1".into(),
            status: Some("canceled".into()),
            plan: Some("Monthly".into()),
            product: None,
            started_at: None,
            cancelled_at: None,
            amount: None,
            ..Default::default()
        }),
    );
    let m = notice(&cancelled, &style()).unwrap();
    assert_eq!(m.embeds[0].title, "Subscription Canceled");
    assert_eq!(field(&m, "Canceled"), "<t:1700000000:f>");
}

#[test]
fn tests_are_marked_and_templates_render_above_the_embed() {
    let mut e = sale();
    e.test = true;
    let mut s = style();
    s.template = Some("New order %id%: %price%");
    let m = notice(&e, &s).unwrap();
    assert_eq!(m.embeds[0].title, "[TEST] New Sale Completed");
    assert_eq!(m.content.as_deref(), Some("[TEST] New order TX1: €29.99"));
    assert!(m.embeds[0]
        .footer
        .as_ref()
        .unwrap()
        .text
        .contains("not counted"));
}

#[test]
fn other_events_have_no_notice() {
    assert!(notice(&base(EventKind::Other, Detail::Other), &style()).is_none());
}
