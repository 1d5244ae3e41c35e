//! Pure translation of a verified Payhip payload into a domain [`Event`]: the payload shapes,
//! read leniently (Payhip sends numbers as strings at times), and what each event type means.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::lenient::{self, opt_bool, opt_i64, opt_string, unix_seconds};
use super::{sha256_hex, ProviderError, NAME};
use crate::domain::{
    CheckoutAnswers, Coupon, Customer, Detail, Event, EventKind, Item, LicenseKey, Money, Refund,
    Sale, Subscription,
};

/// Only the fields needed to decide whether to go on; read before anything else.
#[derive(Deserialize)]
pub(super) struct Envelope {
    #[serde(rename = "type", default, deserialize_with = "opt_string")]
    pub(super) kind: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) signature: Option<String>,
}

#[derive(Deserialize)]
struct PaidOrRefunded {
    #[serde(deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    currency: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    price: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    vat_applied: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    payment_type: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    stripe_fee: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    payhip_fee: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    date: Option<i64>,
    #[serde(default)]
    items: Vec<PayhipItem>,
    #[serde(default)]
    coupons: Vec<PayhipCoupon>,
    #[serde(default, deserialize_with = "opt_string")]
    stripe_charge_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    paypal_transaction_id: Option<String>,
    // Refund-only fields.
    #[serde(default, deserialize_with = "opt_i64")]
    amount_refunded: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    date_created: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    date_refunded: Option<i64>,
    // Older `paid` bodies and some stores' checkout forms.
    #[serde(default, deserialize_with = "opt_i64")]
    vat_amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    vat_country: Option<String>,
    #[serde(default)]
    checkout_questions: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct PayhipItem {
    #[serde(default, deserialize_with = "opt_string")]
    product_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    product_key: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    quantity: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    on_sale: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    used_coupon: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    coupon_code: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    coupon_percentage: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    coupon_amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    variant_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    license_key: Option<String>,
}

#[derive(Deserialize)]
struct PayhipCoupon {
    #[serde(default, deserialize_with = "opt_string")]
    code: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    percentage: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    amount: Option<i64>,
}

#[derive(Deserialize)]
struct SubscriptionPayload {
    #[serde(deserialize_with = "opt_string")]
    subscription_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    customer_email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    customer_first_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    customer_last_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    plan_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    product_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    product_link: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    date_subscription_started: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    date_subscription_deleted: Option<i64>,
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("missing field `{field}`")))
}

/// Pure translation of a verified Payhip payload.
pub fn translate(
    kind: &str,
    value: &serde_json::Value,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Event, ProviderError> {
    let base = |event_kind: EventKind,
                key: String,
                external_id: String,
                at: Option<DateTime<Utc>>| Event {
        provider: NAME.to_owned(),
        event_type: kind.to_owned(),
        kind: event_kind,
        idempotency_key: key,
        external_id,
        occurred_at: at.unwrap_or(received_at),
        test: false,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail: Detail::Other,
    };
    match kind {
        "paid" => {
            let p: PaidOrRefunded = lenient::parse(value)?;
            let id = required(p.id.clone(), "id")?;
            let total = Money::new(
                required(p.price, "price")?,
                required(p.currency.clone(), "currency")?,
            );
            let fees = match (p.stripe_fee, p.payhip_fee) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
            };
            let mut e = base(
                EventKind::Sale,
                format!("paid:{id}"),
                id,
                unix_seconds(p.date),
            );
            e.customer.email = p.email.clone();
            e.detail = Detail::Sale(Sale {
                total,
                fees_minor: fees,
                coupons: coupons(&p),
                items: items(&p.items),
                payment_method: p.payment_type.as_deref().map(payment_label),
                vat_applied: p.vat_applied,
                transaction_id: p.stripe_charge_id.or(p.paypal_transaction_id),
                vat_minor: p.vat_amount,
                vat_country: p.vat_country,
                checkout_answers: p
                    .checkout_questions
                    .filter(|q| !q.is_null())
                    .map(CheckoutAnswers),
                order_id: None,
            });
            Ok(e)
        }
        "refunded" => {
            let p: PaidOrRefunded = lenient::parse(value)?;
            let id = required(p.id.clone(), "id")?;
            let currency = required(p.currency.clone(), "currency")?;
            let amount = required(p.amount_refunded, "amount_refunded")?;
            let refunded_at = unix_seconds(p.date_refunded);
            // A sale may be refunded in parts; each part is its own event.
            let key = format!(
                "refunded:{id}:{}:{amount}",
                p.date_refunded.map(|d| d.to_string()).unwrap_or_default()
            );
            let mut e = base(EventKind::Refund, key, id.clone(), refunded_at);
            e.customer.email = p.email.clone();
            e.detail = Detail::Refund(Refund {
                amount: Money::new(amount, currency.clone()),
                sale_external_id: id,
                original_total: p.price.map(|v| Money::new(v, currency)),
                purchased_at: unix_seconds(p.date_created.or(p.date)),
                items: items(&p.items),
                payment_method: p.payment_type.as_deref().map(payment_label),
                vat_applied: p.vat_applied,
                ..Refund::default()
            });
            Ok(e)
        }
        "subscription.created" | "subscription.deleted" => {
            let p: SubscriptionPayload = lenient::parse(value)?;
            let id = required(p.subscription_id.clone(), "subscription_id")?;
            let started = unix_seconds(p.date_subscription_started);
            let cancelled = unix_seconds(p.date_subscription_deleted);
            let (event_kind, at) = if kind == "subscription.created" {
                (EventKind::SubscriptionStarted, started)
            } else {
                (EventKind::SubscriptionCancelled, cancelled)
            };
            let mut e = base(event_kind, format!("{kind}:{id}"), id.clone(), at);
            let name = [
                p.customer_first_name.as_deref(),
                p.customer_last_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            e.customer = Customer {
                name: (!name.is_empty()).then_some(name),
                email: p.customer_email.clone(),
            };
            e.url = p.product_link.clone();
            e.detail = Detail::Subscription(Subscription {
                subscription_id: id,
                status: p.status,
                plan: p.plan_name,
                product: p.product_name,
                started_at: started,
                cancelled_at: cancelled,
                ..Subscription::default()
            });
            Ok(e)
        }
        other => Ok(other_event(other, value, body, received_at)),
    }
}

/// An event kept for the record only. The body itself identifies a retry.
pub(super) fn other_event(
    kind: &str,
    value: &serde_json::Value,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Event {
    let id = value
        .get("id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
        .unwrap_or_default();
    Event {
        provider: NAME.to_owned(),
        event_type: kind.to_owned(),
        kind: EventKind::Other,
        idempotency_key: format!("{kind}:{}", sha256_hex(body)),
        external_id: id,
        occurred_at: received_at,
        test: false,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail: Detail::Other,
    }
}

fn items(items: &[PayhipItem]) -> Vec<Item> {
    items
        .iter()
        .map(|i| Item {
            product_id: i.product_id.clone(),
            product_key: i.product_key.clone(),
            name: i
                .product_name
                .clone()
                .unwrap_or_else(|| "Unnamed product".to_owned()),
            quantity: i
                .quantity
                .and_then(|q| u32::try_from(q).ok())
                .filter(|q| *q > 0)
                .unwrap_or(1),
            variant: i.variant_name.clone(),
            on_sale: i.on_sale.unwrap_or(false),
            amount_minor: None,
            license_key: i.license_key.clone().map(LicenseKey),
        })
        .collect()
}

/// Order-level coupons, or failing those, the coupons recorded on items (deduplicated by code).
fn coupons(p: &PaidOrRefunded) -> Vec<Coupon> {
    let mut out: Vec<Coupon> = p
        .coupons
        .iter()
        .filter_map(|c| {
            Some(Coupon {
                code: c.code.clone()?,
                percentage: c.percentage.clone(),
                amount_minor: c.amount,
            })
        })
        .collect();
    if out.is_empty() {
        for i in p.items.iter().filter(|i| i.used_coupon.unwrap_or(false)) {
            if let Some(code) = &i.coupon_code {
                if !out.iter().any(|c| &c.code == code) {
                    out.push(Coupon {
                        code: code.clone(),
                        percentage: i.coupon_percentage.clone(),
                        amount_minor: i.coupon_amount,
                    });
                }
            }
        }
    }
    out
}

/// Payhip's `payment_type` names the gateway by its wire name; sellers know the brand.
fn payment_label(raw: &str) -> String {
    match raw.to_ascii_lowercase().as_str() {
        "card" | "stripe" => "Stripe (card)".to_owned(),
        "paypal" => "PayPal".to_owned(),
        "apple_pay" => "Apple Pay".to_owned(),
        "google_pay" => "Google Pay".to_owned(),
        _ => raw.to_owned(),
    }
}
