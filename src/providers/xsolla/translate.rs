//! Pure translation of a verified Xsolla notification into a domain [`Event`].
//!
//! One purchase can arrive as two notifications: accounts registered with Xsolla on or before
//! 2025-01-22 get both `payment` (Pay Station) and `order_paid` (Store), and both `refund` and
//! `order_canceled`. Both are keyed here by the payment's transaction id (the order's
//! `invoice_id`), so storage recognises them as one purchase.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::payload::{Amount, Notification, Purchase, SubscriptionInfo};
use super::reasons;
use super::NAME;
use crate::domain::{
    decimal_to_minor, decimal_to_scaled, Blocked, Customer, Detail, Dispute, Event, EventKind,
    Item, Money, Refund, RefundScope, Sale, Subscription,
};
use crate::providers::{lenient, sha256_hex, ProviderError};

const PAY_STATION: &str = "Xsolla Pay Station";

pub(super) fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("missing field `{field}`")))
}

/// Decimal major units ("9.99", 9.99) to exact minor units.
pub(super) fn money(amount: &Amount, path: &str) -> Result<Money, ProviderError> {
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

pub(super) fn optional_minor(amount: &Amount, currency: &str) -> Option<i64> {
    let same = amount.currency.as_deref()?.eq_ignore_ascii_case(currency);
    same.then(|| decimal_to_minor(amount.amount.as_deref()?, currency))
        .flatten()
}

pub(super) fn time(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .or_else(|| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z").ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Whole units of something counted, given as a number or a string ("1500", 1500).
pub(super) fn units(text: Option<&str>) -> Option<i64> {
    decimal_to_scaled(text?, 0)
}

/// Translates a verified Xsolla notification. An error names the field that is missing or wrong.
pub fn translate(
    value: &Value,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Event, ProviderError> {
    let n: Notification = lenient::parse(value)?;
    let kind = required(n.notification_type.clone(), "notification_type")?;
    let customer = Customer {
        name: n
            .user
            .name
            .clone()
            .or_else(|| n.user.id.clone())
            .or_else(|| n.user.external_id.clone()),
        email: n.user.email.clone(),
    };
    let dry_run = n.transaction.dry_run.unwrap_or(0) != 0;
    let mut event = Event {
        provider: NAME.to_owned(),
        event_type: kind.clone(),
        kind: EventKind::Other,
        idempotency_key: format!("{kind}:{}", sha256_hex(body)),
        external_id: String::new(),
        occurred_at: received_at,
        test: dry_run,
        test_signed: false,
        customer,
        url: None,
        comment: None,
        detail: Detail::Other,
    };
    match kind.as_str() {
        "payment" => payment(&n, &mut event)?,
        "refund" => refund(&n, &mut event, RefundScope::Whole)?,
        "partial_refund" => refund(&n, &mut event, RefundScope::Partial)?,
        "order_paid" | "order_canceled" => super::orders::order(&n, &mut event)?,
        "create_subscription"
        | "update_subscription"
        | "cancel_subscription"
        | "non_renewal_subscription" => subscription(&n, &mut event)?,
        "dispute" => dispute(&n, &mut event)?,
        "afs_reject" => blocked(&n, &mut event)?,
        _ => event.external_id = n.user.id.clone().unwrap_or_default(),
    }
    Ok(event)
}

/// A Pay Station payment: money for virtual items, a currency pack or a subscription.
fn payment(n: &Notification, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(n.transaction.id.clone(), "transaction.id")?;
    let total = purchase_total(n)?;
    let fees: Vec<i64> = [
        &n.payment_details.xsolla_fee,
        &n.payment_details.payment_method_fee,
    ]
    .into_iter()
    .filter_map(|a| optional_minor(a, &total.currency))
    .collect();
    event.idempotency_key = format!("payment:{id}");
    event.external_id = id;
    event.kind = EventKind::Sale;
    if let Some(at) = time(n.transaction.payment_date.as_deref()) {
        event.occurred_at = at;
    }
    event.detail = Detail::Sale(Sale {
        fees_minor: (!fees.is_empty()).then(|| fees.iter().sum()),
        items: purchase_items(&n.purchase, &total.currency),
        payment_method: Some(PAY_STATION.to_owned()),
        transaction_id: n.transaction.external_id.clone(),
        total,
        ..Sale::default()
    });
    Ok(())
}

/// `purchase.total`, or the amount paid when the purchase has no total.
fn purchase_total(n: &Notification) -> Result<Money, ProviderError> {
    if n.purchase.total.amount.is_some() {
        money(&n.purchase.total, "purchase.total")
    } else {
        money(&n.payment_details.payment, "payment_details.payment")
    }
}

/// What a Pay Station purchase bought: virtual items, a currency pack (named by how many units
/// of which currency) and a subscription.
fn purchase_items(purchase: &Purchase, currency: &str) -> Vec<Item> {
    let mut items: Vec<Item> = purchase
        .virtual_items
        .items
        .iter()
        .map(|i| Item {
            product_id: i.sku.clone(),
            name: i.sku.clone().unwrap_or_else(|| "Virtual item".to_owned()),
            quantity: quantity(i.amount),
            ..Item::default()
        })
        .collect();
    if let Some(pack) = &purchase.virtual_currency {
        let name = pack
            .name
            .clone()
            .or_else(|| pack.sku.clone())
            .unwrap_or_else(|| "virtual currency".to_owned());
        let amount = Amount {
            amount: pack.amount.clone(),
            currency: pack.currency.clone(),
        };
        items.push(Item {
            product_id: pack.sku.clone(),
            name: match units(pack.quantity.as_deref()) {
                Some(q) => format!("{q} {name}"),
                None => name,
            },
            quantity: 1,
            amount_minor: optional_minor(&amount, currency),
            ..Item::default()
        });
    }
    if let Some(s) = &purchase.subscription {
        let name = match (&s.product_id, &s.plan_id) {
            (Some(product), _) => format!("{product} (subscription)"),
            (None, Some(plan)) => format!("Subscription plan {plan}"),
            (None, None) => "Subscription".to_owned(),
        };
        items.push(Item {
            product_id: s.plan_id.clone(),
            name,
            quantity: 1,
            ..Item::default()
        });
    }
    items
}

/// `refund` (the whole payment) and `partial_refund` (part of it), linked by transaction id.
fn refund(n: &Notification, event: &mut Event, scope: RefundScope) -> Result<(), ProviderError> {
    let id = required(n.transaction.id.clone(), "transaction.id")?;
    let amount = purchase_total(n)?;
    let (reason, reason_code, risk) = reasons::read(&n.refund_details);
    // Several partial refunds of one payment are each their own event, told apart by body (the
    // default key); a whole refund is one per payment.
    if scope == RefundScope::Whole {
        event.idempotency_key = format!("refund:{id}");
    }
    event.external_id = id.clone();
    event.kind = EventKind::Refund;
    event.detail = Detail::Refund(Refund {
        original_total: (scope == RefundScope::Whole).then(|| amount.clone()),
        items: purchase_items(&n.purchase, &amount.currency),
        amount,
        sale_external_id: id,
        purchased_at: time(n.transaction.payment_date.as_deref()),
        payment_method: Some(PAY_STATION.to_owned()),
        reason,
        reason_code,
        risk,
        scope,
        ..Refund::default()
    });
    Ok(())
}

fn subscription(n: &Notification, event: &mut Event) -> Result<(), ProviderError> {
    let s = &n.subscription;
    let id = required(s.subscription_id.clone(), "subscription.subscription_id")?;
    let kind = event.event_type.clone();
    event.kind = match kind.as_str() {
        "create_subscription" => EventKind::SubscriptionStarted,
        "cancel_subscription" => EventKind::SubscriptionCancelled,
        "non_renewal_subscription" => EventKind::SubscriptionNotRenewing,
        _ => EventKind::SubscriptionUpdated,
    };
    let started = time(s.date_create.as_deref());
    let ended = time(s.date_end.as_deref());
    let next_charge = time(s.date_next_charge.as_deref());
    event.idempotency_key = match event.kind {
        // Updates repeat for one subscription; their bodies tell them apart.
        EventKind::SubscriptionUpdated => event.idempotency_key.clone(),
        EventKind::SubscriptionNotRenewing => format!(
            "{kind}:{id}:{}",
            s.date_next_charge.clone().unwrap_or_default()
        ),
        _ => format!("{kind}:{id}"),
    };
    event.external_id = id.clone();
    event.occurred_at = match event.kind {
        EventKind::SubscriptionStarted => started.unwrap_or(event.occurred_at),
        EventKind::SubscriptionCancelled => ended.unwrap_or(event.occurred_at),
        _ => event.occurred_at,
    };
    let cancelled = event.kind == EventKind::SubscriptionCancelled;
    event.detail = Detail::Subscription(Subscription {
        subscription_id: id,
        status: Some(if cancelled { "canceled" } else { "active" }.to_owned()),
        plan: s.plan_id.clone(),
        product: s.product_id.clone(),
        started_at: started,
        cancelled_at: cancelled.then_some(ended).flatten(),
        amount: subscription_price(s),
        next_charge_at: next_charge,
    });
    Ok(())
}

/// The plan's price when sent; a price that does not parse is left out, not fatal.
fn subscription_price(s: &SubscriptionInfo) -> Option<Money> {
    let amount = Amount {
        amount: s.amount.clone(),
        currency: s.currency.clone(),
    };
    money(&amount, "subscription").ok()
}

/// A dispute opened (`action: adding`) or changed (`updating`) on a payment.
fn dispute(n: &Notification, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(n.transaction.id.clone(), "transaction.id")?;
    let amount = if n.transaction.total.amount.is_some() {
        Some(money(&n.transaction.total, "transaction.total")?)
    } else {
        None
    };
    // Each change of a dispute's status is its own event, told apart by body (the default key).
    event.kind = EventKind::Dispute;
    event.external_id = id.clone();
    event.detail = Detail::Dispute(Dispute {
        transaction_id: id,
        amount,
        opened: n.action.as_deref() != Some("updating"),
        status: n.dispute.status.clone(),
        reason: n.dispute.reason.clone(),
        dispute_type: n.dispute.kind.clone(),
        opened_at: time(n.dispute.incoming_date.as_deref()),
    });
    Ok(())
}

/// A payment refused by Xsolla's anti-fraud check (`afs_reject`): no money moved.
fn blocked(n: &Notification, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(n.transaction.id.clone(), "transaction.id")?;
    let (reason, reason_code, _) = reasons::read(&n.refund_details);
    event.kind = EventKind::PaymentBlocked;
    event.idempotency_key = format!("afs_reject:{id}");
    event.external_id = id.clone();
    event.detail = Detail::Blocked(Blocked {
        transaction_id: id,
        reason,
        reason_code,
    });
    Ok(())
}

pub(super) fn quantity(q: Option<i64>) -> u32 {
    q.and_then(|q| u32::try_from(q).ok())
        .filter(|q| *q > 0)
        .unwrap_or(1)
}
