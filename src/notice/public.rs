//! The notice of a public feed (a destination marked `"public": true`): what was bought, for a
//! community channel, and never how much it cost or who bought it. No seller template either,
//! since a template may name the amount or the buyer.

use super::escape;
use super::message::{Embed, Field, Footer, Message};
use crate::domain::{Detail, Event, EventKind, Item};

/// The public notice of `event`. `None` for what a public feed never shows: disputes, blocked
/// payments and events without a product.
pub fn notice(event: &Event, color: u32, provider_label: &str) -> Option<Message> {
    let title = match event.kind {
        EventKind::Sale => "New Sale",
        EventKind::Refund => "Refund",
        EventKind::SubscriptionStarted => "New Subscription",
        EventKind::SubscriptionUpdated => "Subscription Updated",
        EventKind::SubscriptionCancelled => "Subscription Canceled",
        EventKind::SubscriptionNotRenewing => "Subscription Will Not Renew",
        EventKind::Dispute | EventKind::PaymentBlocked | EventKind::Other => return None,
    };
    let products = match &event.detail {
        Detail::Sale(s) => items(&s.items),
        Detail::Refund(r) => items(&r.items),
        Detail::Subscription(s) => s.product.as_deref().or(s.plan.as_deref()).map(escape::text),
        _ => None,
    }?;
    let title = if event.test {
        format!("[TEST] {title}")
    } else {
        title.to_owned()
    };
    let message = Message::fitted(
        None,
        vec![Embed {
            title,
            description: None,
            url: None,
            color,
            fields: vec![Field {
                name: "Product".to_owned(),
                value: products,
                inline: false,
            }],
            footer: Some(Footer {
                text: super::embed::footer_text(event, provider_label),
            }),
            timestamp: Some(
                event
                    .occurred_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        }],
    );
    Some(message)
}

/// "• Name (variant) ×2" per line; no price.
fn items(items: &[Item]) -> Option<String> {
    (!items.is_empty()).then(|| {
        items
            .iter()
            .map(|i| {
                let mut line = format!("• {}", escape::text(&i.name));
                if let Some(v) = i.variant.as_deref().filter(|v| !v.is_empty()) {
                    line.push_str(&format!(" ({})", escape::text(v)));
                }
                if i.quantity > 1 {
                    line.push_str(&format!(" ×{}", i.quantity));
                }
                line
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Customer, Money, Refund, Sale, Subscription};

    fn event(kind: EventKind, detail: Detail) -> Event {
        Event {
            provider: "payhip".into(),
            event_type: "paid".into(),
            kind,
            idempotency_key: "k".into(),
            external_id: "TX-PRIVATE-1".into(),
            occurred_at: chrono::Utc::now(),
            test: false,
            test_signed: false,
            customer: Customer {
                name: Some("Jane Buyer".into()),
                email: Some("jane.buyer@example.com".into()),
            },
            url: Some("https://payhip.com/order/secret".into()),
            comment: None,
            detail,
        }
    }

    fn item(name: &str, cents: i64) -> Item {
        Item {
            name: name.into(),
            quantity: 1,
            amount_minor: Some(cents),
            ..Item::default()
        }
    }

    /// Everything a public notice must never carry, for one event.
    fn assert_private_parts_absent(message: &Message) {
        let json = serde_json::to_string(message).unwrap();
        for private in [
            "Jane",
            "jane",
            "example.com",
            "24.99",
            "2499",
            "12.50",
            "TX-PRIVATE",
            "secret",
            "Total",
            "Price",
            "Customer",
            "$",
            "USD",
        ] {
            assert!(!json.contains(private), "{private:?} in {json}");
        }
    }

    #[test]
    fn a_public_sale_names_the_product_and_nothing_private() {
        let sale = Sale {
            total: Money::new(2499, "USD"),
            fees_minor: Some(125),
            items: vec![item("Brush Pack", 2499)],
            payment_method: Some("card".into()),
            transaction_id: Some("TX-PRIVATE-2".into()),
            ..Sale::default()
        };
        let m = notice(&event(EventKind::Sale, Detail::Sale(sale)), 1, "Payhip").unwrap();
        assert_eq!(m.embeds[0].title, "New Sale");
        assert_eq!(m.embeds[0].fields[0].value, "• Brush Pack");
        assert!(m.content.is_none());
        assert_private_parts_absent(&m);
    }

    #[test]
    fn public_refunds_and_subscriptions_hide_the_money_too() {
        let refund = Refund {
            amount: Money::new(1250, "USD"),
            original_total: Some(Money::new(2499, "USD")),
            items: vec![item("Brush Pack", 2499)],
            reason: Some("Jane changed her mind".into()),
            sale_external_id: "TX-PRIVATE-3".into(),
            ..Refund::default()
        };
        let m = notice(
            &event(EventKind::Refund, Detail::Refund(refund)),
            1,
            "Payhip",
        )
        .unwrap();
        assert_private_parts_absent(&m);
        let sub = Subscription {
            subscription_id: "TX-PRIVATE-4".into(),
            product: Some("Pro Plan".into()),
            amount: Some(Money::new(2499, "USD")),
            ..Subscription::default()
        };
        let m = notice(
            &event(EventKind::SubscriptionStarted, Detail::Subscription(sub)),
            1,
            "Payhip",
        )
        .unwrap();
        assert_eq!(m.embeds[0].fields[0].value, "Pro Plan");
        assert_private_parts_absent(&m);
    }

    #[test]
    fn disputes_and_events_without_a_product_are_not_public() {
        let no_items = Sale {
            total: Money::new(100, "USD"),
            ..Sale::default()
        };
        assert!(notice(&event(EventKind::Sale, Detail::Sale(no_items)), 1, "x").is_none());
        assert!(notice(&event(EventKind::Dispute, Detail::Other), 1, "x").is_none());
    }
}
