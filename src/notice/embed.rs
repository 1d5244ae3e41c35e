//! The notice for one event: a pure function of the event and the seller's display settings.
//! Every value from the store goes through [`escape`] here, so it shows as written and cannot
//! restyle the notice, link elsewhere or look like a mention.

use chrono::{DateTime, Utc};

use super::escape;
use super::message::{Embed, Field, Footer, Message};
use super::template;
use crate::domain::{Coupon, Detail, Event, EventKind, Item, Money};

/// The seller's choices that shape a notice, resolved from the config by the caller.
pub struct Style<'a> {
    pub color: u32,
    pub provider_label: &'a str,
    pub show_customer: bool,
    pub template: Option<&'a str>,
}

/// Builds the message for an event, within Discord's limits. `None` for kinds never announced.
pub fn notice(event: &Event, style: &Style<'_>) -> Option<Message> {
    let title = match event.kind {
        EventKind::Sale => "New Sale Completed",
        EventKind::Refund => "Refund Issued",
        EventKind::SubscriptionStarted => "New Subscription Created",
        EventKind::SubscriptionUpdated => "Subscription Updated",
        EventKind::SubscriptionCancelled => "Subscription Canceled",
        EventKind::SubscriptionNotRenewing => "Subscription Will Not Renew",
        EventKind::Dispute => match &event.detail {
            Detail::Dispute(d) if !d.opened => "Dispute Updated",
            _ => "Dispute Opened",
        },
        EventKind::PaymentBlocked => "Payment Blocked by Anti-fraud",
        EventKind::Other => return None,
    };
    let title = match &event.detail {
        Detail::Refund(r) => refund_title(title, r),
        _ => title.to_owned(),
    };
    let mut fields = Vec::new();
    let mut add = |name: &str, value: String, inline: bool| {
        fields.push(Field {
            name: name.to_owned(),
            value,
            inline,
        })
    };
    match &event.detail {
        Detail::Sale(s) => {
            if !s.items.is_empty() {
                add("Products", products(&s.items), false);
            }
            add("Total", escape::text(&s.total.to_string()), true);
            if let (Some(net), Some(fees)) = (s.net(), s.fees_minor) {
                let fees = Money::new(fees, s.total.currency.clone());
                add(
                    "You keep",
                    escape::text(&format!("{net} (fees {fees})")),
                    true,
                );
            }
            if let Some(method) = &s.payment_method {
                add("Payment", escape::text(method), true);
            }
            if let Some(vat) = s.vat_applied {
                add("VAT applied", yes_no(vat), true);
            }
            if let Some(vat) = s.vat_minor {
                let country = s.vat_country.as_deref().map(|c| format!(" ({c})"));
                let vat = Money::new(vat, s.total.currency.clone());
                add("VAT", format!("{vat}{}", country.unwrap_or_default()), true);
            }
            if !s.coupons.is_empty() {
                add("Coupon", coupons(&s.coupons, &s.total.currency), true);
            }
            add(
                "Transaction ID",
                transaction(&event.external_id, s.transaction_id.as_deref()),
                false,
            );
            if let Some(order) = &s.order_id {
                add("Order", format!("`{order}`"), true);
            }
        }
        Detail::Refund(r) => {
            if !r.items.is_empty() {
                add("Products", products(&r.items), false);
            }
            add("Refunded", escape::text(&r.amount.to_string()), true);
            if let Some(total) = &r.original_total {
                add("Original total", escape::text(&total.to_string()), true);
            }
            if let Some(method) = &r.payment_method {
                add("Payment", escape::text(method), true);
            }
            if let Some(vat) = r.vat_applied {
                add("VAT applied", yes_no(vat), true);
            }
            if let Some(at) = r.purchased_at {
                add("Purchased", discord_time(at), true);
            }
            add("Refund date", discord_time(event.occurred_at), true);
            if let Some(reason) = &r.reason {
                add("Reason", escape::text(reason), false);
            }
            add(
                "Transaction ID",
                format!("`{}`", escape::code(&r.sale_external_id)),
                false,
            );
            if let Some(order) = &r.order_id {
                add("Order", format!("`{}`", escape::code(order)), true);
            }
        }
        Detail::Subscription(s) => {
            if let Some(product) = &s.product {
                add("Product", escape::text(product), true);
            }
            if let Some(plan) = &s.plan {
                add("Plan", escape::text(plan), true);
            }
            if let Some(amount) = &s.amount {
                add("Price", escape::text(&amount.to_string()), true);
            }
            let status = match event.kind {
                EventKind::SubscriptionCancelled => "Canceled".to_owned(),
                EventKind::SubscriptionNotRenewing => "Active, will not renew".to_owned(),
                _ => s
                    .status
                    .clone()
                    .map(|s| escape::text(&capitalize(s)))
                    .unwrap_or_else(|| "Active".to_owned()),
            };
            add("Status", status, true);
            if let Some(at) = s.started_at {
                add("Started", discord_time(at), true);
            }
            if event.kind == EventKind::SubscriptionCancelled {
                add(
                    "Canceled",
                    discord_time(s.cancelled_at.unwrap_or(event.occurred_at)),
                    true,
                );
            }
            if let (EventKind::SubscriptionNotRenewing, Some(end)) = (event.kind, s.next_charge_at)
            {
                add("Ends", discord_time(end), true);
            }
            add(
                "Subscription ID",
                format!("`{}`", escape::code(&s.subscription_id)),
                false,
            );
        }
        Detail::Dispute(d) => {
            if let Some(amount) = &d.amount {
                add("Disputed", amount.to_string(), true);
            }
            if let Some(status) = &d.status {
                add("Status", escape::text(status), true);
            }
            if let Some(kind) = &d.dispute_type {
                add("Type", escape::text(kind), true);
            }
            if let Some(reason) = &d.reason {
                add("Reason", escape::text(reason), true);
            }
            if let Some(at) = d.opened_at {
                add("Opened", discord_time(at), true);
            }
            add(
                "Transaction ID",
                format!("`{}`", escape::code(&d.transaction_id)),
                false,
            );
        }
        Detail::Blocked(b) => {
            add(
                "Charged",
                "Nothing: the payment was refused".to_owned(),
                false,
            );
            if let Some(reason) = &b.reason {
                add("Reason", escape::text(reason), true);
            }
            add(
                "Transaction ID",
                format!("`{}`", escape::code(&b.transaction_id)),
                false,
            );
        }
        Detail::Unreadable(_) | Detail::Other => {}
    }
    add("Customer", customer(event, style.show_customer), false);

    let title = if event.test {
        format!("[TEST] {title}")
    } else {
        title
    };
    let footer = footer_text(event, style.provider_label);
    let content = style.template.map(|t| {
        template::render(
            t,
            &template::Context {
                event,
                provider_label: style.provider_label,
                show_customer: style.show_customer,
            },
        )
    });
    let content = match content.filter(|c| !c.trim().is_empty()) {
        Some(c) if event.test => Some(format!("[TEST] {c}")),
        c => c,
    };
    let message = Message::fitted(
        content,
        vec![Embed {
            title,
            description: None,
            // The title links to the store's product page only when it is a plain https address.
            url: event
                .url
                .as_deref()
                .and_then(escape::link)
                .map(str::to_owned),
            color: style.color,
            fields,
            footer: Some(Footer { text: footer }),
            timestamp: Some(
                event
                    .occurred_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        }],
    );
    Some(message)
}

/// The footer: the store's label (from the seller's config, so not escaped; Discord does not
/// render markdown in footers anyway), and a reminder on test events.
pub fn footer_text(event: &Event, provider_label: &str) -> String {
    if event.test {
        format!("{provider_label} · test event, not counted in stats")
    } else {
        provider_label.to_owned()
    }
}

/// "Partial Refund Issued", and a chargeback or fraud named in the title where it cannot be missed.
fn refund_title(title: &str, r: &crate::domain::Refund) -> String {
    let title = match r.scope {
        crate::domain::RefundScope::Partial => format!("Partial {title}"),
        _ => title.to_owned(),
    };
    match r.risk {
        Some(crate::domain::Risk::Chargeback) => format!("⚠️ {title}: Chargeback"),
        Some(crate::domain::Risk::Fraud) => format!("⚠️ {title}: Fraud"),
        None => title,
    }
}

/// `<t:…:f>` renders in each reader's own time zone and language.
fn discord_time(at: DateTime<Utc>) -> String {
    format!("<t:{}:f>", at.timestamp())
}

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.to_owned()
}

fn capitalize(s: String) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => s,
    }
}

fn products(items: &[Item]) -> String {
    items
        .iter()
        .map(|i| {
            let mut line = format!("• {}", escape::text(&i.name));
            if let Some(v) = i.variant.as_deref().filter(|v| !v.is_empty()) {
                line.push_str(&format!(" ({})", escape::text(v)));
            }
            line.push_str(&format!(" ×{}", i.quantity));
            if i.on_sale {
                line.push_str(" (SALE)");
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn coupons(coupons: &[Coupon], currency: &str) -> String {
    coupons
        .iter()
        .map(|c| {
            let mut parts = Vec::new();
            if let Some(p) = c.percentage.as_deref().filter(|p| !p.is_empty()) {
                parts.push(format!("{}%", escape::text(p.trim_end_matches('%'))));
            }
            if let Some(a) = c.amount_minor {
                parts.push(format!(
                    "saved {}",
                    escape::text(&Money::new(a, currency).to_string())
                ));
            }
            let code = escape::code(&c.code);
            if parts.is_empty() {
                format!("`{code}`")
            } else {
                format!("`{code}` ({})", parts.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn transaction(id: &str, processor: Option<&str>) -> String {
    let shown = escape::code(id);
    match processor {
        Some(p) if p != id => format!("`{shown}`\n`{}`", escape::code(p)),
        _ => format!("`{shown}`"),
    }
}

/// Hidden unless the seller opted in; the email is masked even then.
fn customer(event: &Event, show: bool) -> String {
    if !show {
        return "Hidden for privacy".to_owned();
    }
    let c = &event.customer;
    match (
        c.name.as_deref().filter(|n| !n.trim().is_empty()),
        c.masked_email(),
    ) {
        (Some(n), Some(e)) => format!("{} ({})", escape::text(n), escape::text(&e)),
        (Some(n), None) => escape::text(n),
        (None, Some(e)) => escape::text(&e),
        (None, None) => "Unknown".to_owned(),
    }
}

#[cfg(test)]
#[path = "embed_tests.rs"]
mod tests;
