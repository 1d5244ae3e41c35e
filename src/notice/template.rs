//! ClientXCMS-style message templates: `New order %id%: %price% by %user%`. Sellers coming from
//! ClientXCMS already know these placeholders.

use super::escape;
use crate::domain::Event;

/// Every placeholder a template may use.
pub const PLACEHOLDERS: [&str; 11] = [
    "id",
    "price",
    "user",
    "paymentType",
    "transactionId",
    "comment",
    "url",
    "product",
    "currency",
    "provider",
    "event",
];

/// What a template is rendered against.
pub struct Context<'a> {
    pub event: &'a Event,
    pub provider_label: &'a str,
    pub show_customer: bool,
}

/// A placeholder's text. Store values are escaped (the seller's own template text around them is
/// not: its markdown is meant); `%provider%` is the seller's label, and `%url%` is kept only as a
/// plain https address.
fn value(name: &str, cx: &Context<'_>) -> Option<String> {
    match name {
        "provider" => Some(cx.provider_label.to_owned()),
        "url" => Some(
            cx.event
                .url
                .as_deref()
                .and_then(escape::link)
                .unwrap_or_default()
                .to_owned(),
        ),
        _ => raw_value(name, cx).map(|v| escape::text(&v)),
    }
}

fn raw_value(name: &str, cx: &Context<'_>) -> Option<String> {
    let e = cx.event;
    Some(match name {
        "id" => e.external_id.clone(),
        "price" => e.amount().map(ToString::to_string).unwrap_or_default(),
        "user" => {
            if cx.show_customer {
                e.customer
                    .display_name()
                    .unwrap_or_else(|| "a customer".to_owned())
            } else {
                "a customer".to_owned()
            }
        }
        "paymentType" => e.payment_method().unwrap_or_default().to_owned(),
        "transactionId" => match &e.detail {
            crate::domain::Detail::Sale(s) => s
                .transaction_id
                .clone()
                .unwrap_or_else(|| e.external_id.clone()),
            _ => e.external_id.clone(),
        },
        "comment" => e.comment.clone().unwrap_or_default(),
        "product" => e.product_summary().unwrap_or_default(),
        "currency" => e.amount().map(|m| m.currency.clone()).unwrap_or_default(),
        "event" => e.event_type.clone(),
        _ => return None,
    })
}

/// Replaces known placeholders; anything else between `%` signs is left exactly as written.
pub fn render(template: &str, cx: &Context<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(end) if is_name(&after[..end]) => match value(&after[..end], cx) {
                Some(v) => {
                    out.push_str(&v);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('%');
                    rest = after;
                }
            },
            _ => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Placeholders a template uses that the bot does not know, for `check-config`.
pub fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(end) if is_name(&after[..end]) => {
                let name = &after[..end];
                if !PLACEHOLDERS.contains(&name) {
                    out.push(format!("%{name}%"));
                }
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Customer, Detail, EventKind, Money, Sale};

    fn event() -> Event {
        Event {
            provider: "payhip".into(),
            event_type: "paid".into(),
            kind: EventKind::Sale,
            idempotency_key: "paid:A1".into(),
            external_id: "A1".into(),
            occurred_at: chrono::Utc::now(),
            test: false,
            test_signed: false,
            customer: Customer {
                name: Some("Ada".into()),
                email: Some("ada@example.com".into()),
            },
            url: None,
            comment: None,
            detail: Detail::Sale(Sale {
                total: Money::new(1250, "EUR"),
                fees_minor: None,
                items: vec![],
                coupons: vec![],
                payment_method: Some("PayPal".into()),
                vat_applied: None,
                transaction_id: Some("PP-9".into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn placeholders_render_and_unknown_ones_stay() {
        let e = event();
        let cx = Context {
            event: &e,
            provider_label: "Payhip",
            show_customer: true,
        };
        assert_eq!(
            render(
                "Order %id%: %price% by %user% via %paymentType% (%transactionId%) %nope% 100%",
                &cx
            ),
            "Order A1: €12.50 by Ada via PayPal (PP-9) %nope% 100%"
        );
        assert_eq!(
            render("%currency% on %provider%: %event%%comment%", &cx),
            "EUR on Payhip: paid"
        );
    }

    #[test]
    fn the_customer_stays_private_unless_shown() {
        let e = event();
        let cx = Context {
            event: &e,
            provider_label: "Payhip",
            show_customer: false,
        };
        assert_eq!(render("%user%", &cx), "a customer");
    }

    #[test]
    fn store_text_cannot_link_restyle_or_mention_but_the_template_can_style() {
        let mut e = event();
        e.customer.name = Some("[click](https://evil.example) @everyone".into());
        e.url = Some("https://evil.example/a)[x](https://evil.example".into());
        if let Detail::Sale(s) = &mut e.detail {
            s.payment_method = Some("# **PayPal**".into());
        }
        let cx = Context {
            event: &e,
            provider_label: "Payhip",
            show_customer: true,
        };
        assert_eq!(
            render("**%user%** paid via %paymentType% [page](%url%)", &cx),
            "**\\[click\\](https\\://evil.example) @\u{200B}everyone** paid via \\# \\*\\*PayPal\\*\\* [page]()"
        );
        e.url = Some("https://payhip.com/b/AbC1".into());
        let cx = Context {
            event: &e,
            provider_label: "Payhip",
            show_customer: true,
        };
        assert_eq!(render("%url%", &cx), "https://payhip.com/b/AbC1");
    }

    #[test]
    fn unknown_placeholders_are_listed() {
        assert_eq!(
            unknown_placeholders("%id% %foo% 50% off %price%"),
            vec!["%foo%"]
        );
        assert!(unknown_placeholders("New order %id%: %price% by %user%").is_empty());
    }
}
