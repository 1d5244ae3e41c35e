//! Pure translation of a verified Gumroad ping into a domain [`Event`]. `resource_name` says what
//! happened; a ping without one (the Ping setting's own, and its test button) is a sale. Gumroad
//! retries a ping with a `retry_count` added, so keys come from ids, never from the whole body.

use chrono::{DateTime, Utc};

use super::fields::Fields;
use super::NAME;
use crate::domain::{
    Coupon, Customer, Detail, Dispute, Event, EventKind, Item, LicenseKey, Money, Refund,
    RefundScope, Sale, Subscription,
};
use crate::providers::ProviderError;

fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("missing field `{field}`")))
}

fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Translates a ping whose token matched. An error names the field that is missing or wrong.
pub(super) fn translate(f: &Fields, received_at: DateTime<Utc>) -> Result<Event, ProviderError> {
    let resource = f.text("resource_name").unwrap_or_else(|| "sale".to_owned());
    let test = f.flag("test");
    let mut event = Event {
        provider: NAME.to_owned(),
        event_type: resource.clone(),
        kind: EventKind::Other,
        idempotency_key: format!("{resource}:{}", f.digest()),
        external_id: f
            .text("sale_id")
            .or_else(|| f.text("subscription_id"))
            .unwrap_or_default(),
        occurred_at: received_at,
        test,
        test_signed: false,
        customer: Customer {
            name: f.text("full_name"),
            email: f.text("email").or_else(|| f.text("user_email")),
        },
        url: None,
        comment: None,
        detail: Detail::Other,
    };
    match resource.as_str() {
        "sale" => sale(f, &mut event)?,
        "refund" => refund(f, &mut event)?,
        "dispute" | "dispute_won" => dispute(f, &mut event)?,
        "cancellation"
        | "subscription_ended"
        | "subscription_restarted"
        | "subscription_updated" => subscription(f, &mut event)?,
        _ => {}
    }
    if test {
        // The test button sends the latest real sale again: each press is its own test event,
        // never taken for that sale.
        event.idempotency_key = format!(
            "test:{}:{}",
            event.idempotency_key,
            received_at.timestamp_millis()
        );
    }
    Ok(event)
}

/// The price paid, in cents of the product's currency (USD when the ping names none).
fn price(f: &Fields) -> Result<Money, ProviderError> {
    let cents = required(f.integer("price")?, "price")?;
    let currency = f.text("currency").unwrap_or_else(|| "USD".to_owned());
    Ok(Money::new(cents, currency))
}

fn items(f: &Fields, total: &Money) -> Result<Vec<Item>, ProviderError> {
    let Some(name) = f.text("product_name") else {
        return Ok(Vec::new());
    };
    let variants: Vec<String> = f
        .nested("variants")
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    Ok(vec![Item {
        product_id: f.text("product_id"),
        product_key: None,
        name,
        quantity: f
            .integer("quantity")?
            .and_then(|q| u32::try_from(q).ok())
            .filter(|q| *q > 0)
            .unwrap_or(1),
        variant: (!variants.is_empty()).then(|| variants.join(", ")),
        on_sale: false,
        amount_minor: Some(total.minor),
        license_key: f.text("license_key").map(LicenseKey),
    }])
}

fn sale(f: &Fields, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(f.text("sale_id"), "sale_id")?;
    let total = price(f)?;
    event.kind = EventKind::Sale;
    event.idempotency_key = format!("sale:{id}");
    event.external_id = id;
    if let Some(at) = time(f.get("sale_timestamp")) {
        event.occurred_at = at;
    }
    event.url = f
        .text("product_permalink")
        .filter(|u| u.starts_with("https://"));
    event.detail = Detail::Sale(Sale {
        items: items(f, &total)?,
        fees_minor: f.integer("gumroad_fee")?,
        coupons: f
            .text("offer_code")
            .map(|code| Coupon {
                code,
                percentage: None,
                amount_minor: None,
            })
            .into_iter()
            .collect(),
        order_id: f.text("order_number"),
        total,
        ..Sale::default()
    });
    Ok(())
}

/// A refund ping is the sale's own ping again. `refunded=true` means the whole sale was refunded.
/// A partial refund sends `refunded=false` and no amount: it is recorded only, and the sale's
/// price is deducted once it is refunded in full.
fn refund(f: &Fields, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(f.text("sale_id"), "sale_id")?;
    event.external_id = id.clone();
    if !f.flag("refunded") {
        event.idempotency_key = format!("refund_partial:{id}:{}", f.digest());
        return Ok(());
    }
    let total = price(f)?;
    event.kind = EventKind::Refund;
    event.idempotency_key = format!("refund:{id}");
    event.detail = Detail::Refund(Refund {
        items: items(f, &total)?,
        original_total: Some(total.clone()),
        amount: total,
        sale_external_id: id,
        purchased_at: time(f.get("sale_timestamp")),
        scope: RefundScope::Whole,
        order_id: f.text("order_number"),
        ..Refund::default()
    });
    Ok(())
}

fn dispute(f: &Fields, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(f.text("sale_id"), "sale_id")?;
    let won = event.event_type == "dispute_won";
    event.kind = EventKind::Dispute;
    event.idempotency_key = format!("{}:{id}", event.event_type);
    event.external_id = id.clone();
    event.detail = Detail::Dispute(Dispute {
        transaction_id: id,
        amount: Some(price(f)?),
        opened: !won,
        status: won.then(|| "won".to_owned()),
        reason: None,
        dispute_type: None,
        opened_at: None,
    });
    Ok(())
}

/// A membership cancelled (it runs until its paid period ends), ended, restarted or changed plan.
fn subscription(f: &Fields, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(f.text("subscription_id"), "subscription_id")?;
    let resource = event.event_type.clone();
    let (kind, dated) = match resource.as_str() {
        "cancellation" => (EventKind::SubscriptionNotRenewing, "cancelled_at"),
        "subscription_ended" => (EventKind::SubscriptionCancelled, "ended_at"),
        "subscription_restarted" => (EventKind::SubscriptionStarted, "restarted_at"),
        _ => (EventKind::SubscriptionUpdated, "effective_as_of"),
    };
    let at = time(f.get(dated));
    event.kind = kind;
    event.external_id = id.clone();
    event.idempotency_key = format!("{resource}:{id}:{}", f.get(dated).unwrap_or_default());
    if kind == EventKind::SubscriptionUpdated {
        event.idempotency_key.push_str(&format!(":{}", f.digest()));
    }
    if let Some(at) = at {
        event.occurred_at = at;
    }
    let plan = match kind {
        EventKind::SubscriptionUpdated => f.text("new_plan[tier][name]"),
        _ => None,
    }
    .or_else(|| f.text("recurrence"));
    event.detail = Detail::Subscription(Subscription {
        subscription_id: id,
        status: match kind {
            EventKind::SubscriptionCancelled => f.text("ended_reason").map(|r| r.replace('_', " ")),
            _ => None,
        },
        plan,
        product: f.text("product_name"),
        // A restart is dated by its own time, so that it reopens the ended subscription.
        started_at: match kind {
            EventKind::SubscriptionStarted => at,
            _ => time(f.get("created_at")),
        },
        cancelled_at: (kind == EventKind::SubscriptionCancelled)
            .then_some(at)
            .flatten(),
        amount: None,
        next_charge_at: None,
    });
    Ok(())
}
