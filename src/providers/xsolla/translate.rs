//! Pure translation of a verified Xsolla notification into a domain [`Event`].

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::payload::{Amount, Notification};
use super::NAME;
use crate::domain::{
    decimal_to_minor, Customer, Detail, Event, EventKind, Item, Money, Refund, Sale, Subscription,
};
use crate::providers::{lenient, sha256_hex, ProviderError};

fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("missing field `{field}`")))
}

/// Decimal major units ("9.99", 9.99) to exact minor units.
fn money(amount: &Amount, path: &str) -> Result<Money, ProviderError> {
    let currency =
        required(amount.currency.clone(), &format!("{path}.currency"))?.to_ascii_uppercase();
    let text = required(amount.amount.clone(), &format!("{path}.amount"))?;
    let minor = decimal_to_minor(&text, &currency).ok_or_else(|| {
        ProviderError::Malformed(format!(
            "`{path}.amount` is not an amount in {currency}: {text:?}"
        ))
    })?;
    Ok(Money::new(minor, currency))
}

fn optional_minor(amount: &Amount, currency: &str) -> Option<i64> {
    let same = amount.currency.as_deref()?.eq_ignore_ascii_case(currency);
    same.then(|| decimal_to_minor(amount.amount.as_deref()?, currency))
        .flatten()
}

fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Pure translation of a verified Xsolla notification.
pub fn translate(
    value: &Value,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Event, ProviderError> {
    let n: Notification = lenient::parse(value)?;
    let kind = required(n.notification_type.clone(), "notification_type")?;
    let customer = Customer {
        name: n.user.name.clone().or_else(|| n.user.id.clone()),
        email: n.user.email.clone(),
    };
    let dry_run = n.transaction.dry_run.unwrap_or(0) != 0;
    let mut event = Event {
        provider: NAME.to_owned(),
        event_type: kind.clone(),
        kind: EventKind::Other,
        idempotency_key: format!("{kind}:{}", sha256_hex(body)),
        external_id: String::new(),
        occurred_at: time(n.transaction.payment_date.as_deref()).unwrap_or(received_at),
        test: dry_run,
        test_signed: false,
        customer,
        url: None,
        comment: None,
        detail: Detail::Other,
    };
    match kind.as_str() {
        "payment" | "refund" => {
            let id = required(n.transaction.id.clone(), "transaction.id")?;
            let total = if n.purchase.total.amount.is_some() {
                money(&n.purchase.total, "purchase.total")?
            } else {
                money(&n.payment_details.payment, "payment_details.payment")?
            };
            let items = n
                .purchase
                .virtual_items
                .items
                .iter()
                .map(|i| Item {
                    product_id: i.sku.clone(),
                    name: i.sku.clone().unwrap_or_else(|| "Virtual item".to_owned()),
                    quantity: quantity(i.amount),
                    variant: None,
                    on_sale: false,
                    amount_minor: None,
                    license_key: None,
                })
                .collect();
            event.idempotency_key = format!("{kind}:{id}");
            event.external_id = id.clone();
            if kind == "payment" {
                let fees: Vec<i64> = [
                    &n.payment_details.xsolla_fee,
                    &n.payment_details.payment_method_fee,
                ]
                .into_iter()
                .filter_map(|a| optional_minor(a, &total.currency))
                .collect();
                event.kind = EventKind::Sale;
                event.detail = Detail::Sale(Sale {
                    fees_minor: (!fees.is_empty()).then(|| fees.iter().sum()),
                    items,
                    coupons: vec![],
                    payment_method: Some("Xsolla Pay Station".to_owned()),
                    vat_applied: None,
                    transaction_id: n.transaction.external_id.clone(),
                    total,
                    ..Sale::default()
                });
            } else {
                event.kind = EventKind::Refund;
                event.occurred_at = received_at;
                event.detail = Detail::Refund(Refund {
                    amount: total.clone(),
                    sale_external_id: id,
                    original_total: Some(total),
                    purchased_at: time(n.transaction.payment_date.as_deref()),
                    items,
                    payment_method: Some("Xsolla Pay Station".to_owned()),
                    vat_applied: None,
                    reason: n.refund_details.reason.clone(),
                    ..Refund::default()
                });
            }
        }
        "order_paid" | "order_canceled" => {
            let id = required(n.order.id.clone(), "order.id")?;
            let total = money(
                &Amount {
                    amount: n.order.amount.clone(),
                    currency: n.order.currency.clone(),
                },
                "order",
            )?;
            let items = n
                .items
                .iter()
                .map(|i| Item {
                    product_id: i.sku.clone(),
                    name: i
                        .name
                        .clone()
                        .or_else(|| i.sku.clone())
                        .unwrap_or_else(|| "Item".to_owned()),
                    quantity: quantity(i.quantity),
                    variant: None,
                    on_sale: false,
                    amount_minor: i
                        .amount
                        .as_deref()
                        .and_then(|a| decimal_to_minor(a, &total.currency)),
                    license_key: None,
                })
                .collect();
            event.idempotency_key = format!("{kind}:{id}");
            event.external_id = id.clone();
            if kind == "order_paid" {
                event.kind = EventKind::Sale;
                event.detail = Detail::Sale(Sale {
                    total,
                    fees_minor: None,
                    items,
                    coupons: vec![],
                    payment_method: Some("Xsolla Store".to_owned()),
                    vat_applied: None,
                    transaction_id: n.transaction.id.clone(),
                    ..Sale::default()
                });
            } else {
                event.kind = EventKind::Refund;
                event.occurred_at = received_at;
                event.detail = Detail::Refund(Refund {
                    amount: total.clone(),
                    sale_external_id: id,
                    original_total: Some(total),
                    purchased_at: None,
                    items,
                    payment_method: Some("Xsolla Store".to_owned()),
                    vat_applied: None,
                    reason: None,
                    ..Refund::default()
                });
            }
        }
        "create_subscription" | "update_subscription" | "cancel_subscription" => {
            let s = &n.subscription;
            let id = required(s.subscription_id.clone(), "subscription.subscription_id")?;
            event.kind = match kind.as_str() {
                "create_subscription" => EventKind::SubscriptionStarted,
                "cancel_subscription" => EventKind::SubscriptionCancelled,
                _ => EventKind::SubscriptionUpdated,
            };
            // Updates repeat for one subscription; their bodies tell them apart.
            if kind != "update_subscription" {
                event.idempotency_key = format!("{kind}:{id}");
            }
            event.external_id = id.clone();
            let started = time(s.date_create.as_deref());
            let ended = time(s.date_end.as_deref());
            event.occurred_at = match event.kind {
                EventKind::SubscriptionStarted => started.unwrap_or(received_at),
                EventKind::SubscriptionCancelled => ended.unwrap_or(received_at),
                _ => received_at,
            };
            event.detail = Detail::Subscription(Subscription {
                subscription_id: id,
                status: Some(
                    match event.kind {
                        EventKind::SubscriptionCancelled => "canceled",
                        _ => "active",
                    }
                    .to_owned(),
                ),
                plan: s.plan_id.clone(),
                product: s.product_id.clone(),
                started_at: started,
                cancelled_at: (event.kind == EventKind::SubscriptionCancelled)
                    .then_some(ended)
                    .flatten(),
                amount: None,
                ..Subscription::default()
            });
        }
        _ => {
            event.external_id = n.user.id.clone().unwrap_or_default();
            event.occurred_at = received_at;
        }
    }
    Ok(event)
}

fn quantity(q: Option<i64>) -> u32 {
    q.and_then(|q| u32::try_from(q).ok())
        .filter(|q| *q > 0)
        .unwrap_or(1)
}
