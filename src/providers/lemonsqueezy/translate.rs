//! Pure translation of a verified Lemon Squeezy webhook into a domain [`Event`]. Amounts are
//! integers in the currency's smallest unit, as Lemon Squeezy sends them (`"total": 5899` is
//! $58.99).
//!
//! A subscription's first payment arrives as its order (`order_created`) and again as a
//! subscription invoice (`subscription_payment_success` with `billing_reason: initial`): the
//! order is the sale, the invoice is recorded only. Renewals are sales of their own.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::NAME;
use crate::domain::{
    Customer, Detail, Event, EventKind, Item, Money, Refund, RefundScope, Sale, Subscription,
};
use crate::providers::lenient::{self, opt_bool, opt_i64, opt_string};
use crate::providers::{sha256_hex, ProviderError};

#[derive(Deserialize, Default)]
struct Body {
    #[serde(default)]
    meta: Meta,
    #[serde(default)]
    data: Data,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default, deserialize_with = "opt_string")]
    event_name: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    test_mode: Option<bool>,
}

#[derive(Deserialize, Default)]
struct Data {
    #[serde(default, deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default)]
    attributes: Attributes,
}

/// The attributes of an order, a subscription or a subscription invoice: every field optional.
#[derive(Deserialize, Default)]
struct Attributes {
    #[serde(default, deserialize_with = "opt_string")]
    order_number: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    user_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    user_email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    currency: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    total: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    tax: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    refunded: Option<bool>,
    #[serde(default, deserialize_with = "opt_i64")]
    refunded_amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    refunded_at: Option<String>,
    #[serde(default)]
    first_order_item: Option<OrderItem>,
    #[serde(default, deserialize_with = "opt_string")]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    variant_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    product_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    renews_at: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    ends_at: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    billing_reason: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    created_at: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    updated_at: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    test_mode: Option<bool>,
}

#[derive(Deserialize, Default)]
struct OrderItem {
    #[serde(default, deserialize_with = "opt_string")]
    product_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    variant_name: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    price: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    quantity: Option<i64>,
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("missing field `{field}`")))
}

fn time(text: Option<&String>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `"Default"` is Lemon Squeezy's name for a product's only variant: not worth showing.
fn variant(name: Option<&String>) -> Option<String> {
    name.filter(|n| !n.eq_ignore_ascii_case("default")).cloned()
}

/// Translates a verified webhook. `header_name` is `X-Event-Name`, for a body without
/// `meta.event_name`. An error names the field that is missing or wrong.
pub fn translate(
    value: &Value,
    header_name: Option<&str>,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Event, ProviderError> {
    let b: Body = lenient::parse(value)?;
    let kind = b
        .meta
        .event_name
        .clone()
        .or_else(|| header_name.map(str::to_owned));
    let kind = required(kind, "meta.event_name")?;
    let a = &b.data.attributes;
    let id = b.data.id.clone();
    let mut event = Event {
        provider: NAME.to_owned(),
        event_type: kind.clone(),
        kind: EventKind::Other,
        idempotency_key: format!("{kind}:{}", sha256_hex(body)),
        external_id: id.clone().unwrap_or_default(),
        occurred_at: time(a.updated_at.as_ref())
            .or_else(|| time(a.created_at.as_ref()))
            .unwrap_or(received_at),
        test: a.test_mode.or(b.meta.test_mode).unwrap_or(false),
        test_signed: false,
        customer: Customer {
            name: a.user_name.clone(),
            email: a.user_email.clone(),
        },
        url: None,
        comment: None,
        detail: Detail::Other,
    };
    let id = || required(id.clone(), "data.id");
    match kind.as_str() {
        "order_created" => order(a, id()?, &mut event)?,
        "order_refunded" => refund(a, id()?, &mut event)?,
        "subscription_created" | "subscription_cancelled" | "subscription_expired" => {
            subscription(a, id()?, &mut event)
        }
        "subscription_payment_success" => invoice(a, id()?, &mut event)?,
        _ => {}
    }
    Ok(event)
}

fn total(a: &Attributes) -> Result<Money, ProviderError> {
    let total = required(a.total, "data.attributes.total")?;
    let currency = required(a.currency.as_deref(), "data.attributes.currency")?;
    Ok(Money::new(total, currency))
}

fn items(a: &Attributes) -> Vec<Item> {
    a.first_order_item
        .iter()
        .filter_map(|i| {
            Some(Item {
                product_id: i.product_id.clone(),
                name: i.product_name.clone()?,
                quantity: i
                    .quantity
                    .and_then(|q| u32::try_from(q).ok())
                    .filter(|q| *q > 0)
                    .unwrap_or(1),
                variant: variant(i.variant_name.as_ref()),
                amount_minor: i.price,
                ..Item::default()
            })
        })
        .collect()
}

/// A paid order (also one refunded since). A pending or failed order is recorded only.
fn order(a: &Attributes, id: String, event: &mut Event) -> Result<(), ProviderError> {
    let paid = matches!(
        a.status.as_deref(),
        None | Some("paid" | "refunded" | "partial_refund")
    );
    if !paid {
        return Ok(());
    }
    let total = total(a)?;
    event.kind = EventKind::Sale;
    event.idempotency_key = format!("order_created:{id}");
    event.external_id = id;
    if let Some(at) = time(a.created_at.as_ref()) {
        event.occurred_at = at;
    }
    event.detail = Detail::Sale(Sale {
        items: items(a),
        vat_minor: a.tax.filter(|t| *t > 0),
        order_id: a.order_number.clone(),
        total,
        ..Sale::default()
    });
    Ok(())
}

/// `order_refunded` carries the order with everything refunded so far (`refunded_amount`), after
/// each full or partial refund: storage counts what each adds.
fn refund(a: &Attributes, id: String, event: &mut Event) -> Result<(), ProviderError> {
    let total = total(a)?;
    let so_far = match (a.refunded_amount, a.refunded) {
        (Some(amount), _) => amount,
        (None, Some(true)) => total.minor,
        (None, _) => required(None, "data.attributes.refunded_amount")?,
    };
    if so_far <= 0 {
        return Ok(());
    }
    event.kind = EventKind::Refund;
    event.idempotency_key = format!("order_refunded:{id}:{so_far}");
    event.external_id = id.clone();
    if let Some(at) = time(a.refunded_at.as_ref()) {
        event.occurred_at = at;
    }
    event.detail = Detail::Refund(Refund {
        amount: Money::new(so_far, total.currency.clone()),
        sale_external_id: id,
        original_total: Some(total),
        purchased_at: time(a.created_at.as_ref()),
        items: items(a),
        scope: RefundScope::Cumulative,
        order_id: a.order_number.clone(),
        ..Refund::default()
    });
    Ok(())
}

/// Created; cancelled (it runs until `ends_at`, Lemon Squeezy's grace period); expired (ended).
fn subscription(a: &Attributes, id: String, event: &mut Event) {
    let kind = event.event_type.clone();
    let (what, key, at) = match kind.as_str() {
        "subscription_created" => (
            EventKind::SubscriptionStarted,
            format!("{kind}:{id}"),
            time(a.created_at.as_ref()),
        ),
        "subscription_cancelled" => (
            EventKind::SubscriptionNotRenewing,
            // Cancelled, resumed and cancelled again: each cancellation is its own.
            format!("{kind}:{id}:{}", a.updated_at.clone().unwrap_or_default()),
            time(a.updated_at.as_ref()),
        ),
        _ => (
            EventKind::SubscriptionCancelled,
            format!("{kind}:{id}"),
            time(a.ends_at.as_ref()).or_else(|| time(a.updated_at.as_ref())),
        ),
    };
    event.kind = what;
    event.idempotency_key = key;
    event.external_id = id.clone();
    if let Some(at) = at {
        event.occurred_at = at;
    }
    let ended = what == EventKind::SubscriptionCancelled;
    event.detail = Detail::Subscription(Subscription {
        subscription_id: id,
        status: a.status.as_ref().map(|s| s.replace('_', " ")),
        plan: variant(a.variant_name.as_ref()),
        product: a.product_name.clone().or_else(|| a.product_id.clone()),
        started_at: time(a.created_at.as_ref()),
        cancelled_at: if ended { at } else { None },
        amount: None,
        // For a cancelled one, the date it runs until (its notice shows it as "Ends").
        next_charge_at: match what {
            EventKind::SubscriptionStarted => time(a.renews_at.as_ref()),
            EventKind::SubscriptionNotRenewing => time(a.ends_at.as_ref()),
            _ => None,
        },
    });
}

/// A subscription's payment. The first (`initial`) is the same money as its order: recorded
/// only. Renewals and plan changes are sales, keyed apart from orders (`invoice-<id>`), whose ids
/// Lemon Squeezy counts separately.
fn invoice(a: &Attributes, id: String, event: &mut Event) -> Result<(), ProviderError> {
    event.external_id = format!("invoice-{id}");
    if a.billing_reason.as_deref() == Some("initial") || a.status.as_deref() == Some("pending") {
        return Ok(());
    }
    let total = total(a)?;
    if total.minor <= 0 {
        return Ok(());
    }
    event.kind = EventKind::Sale;
    event.idempotency_key = format!("subscription_payment_success:{id}");
    if let Some(at) = time(a.created_at.as_ref()) {
        event.occurred_at = at;
    }
    event.detail = Detail::Sale(Sale {
        vat_minor: a.tax.filter(|t| *t > 0),
        total,
        ..Sale::default()
    });
    Ok(())
}
