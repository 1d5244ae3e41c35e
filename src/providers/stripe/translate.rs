//! Pure translation of a verified Stripe event into a domain [`Event`].
//!
//! One payment is one sale, whichever events describe it: a Checkout payment arrives as
//! `checkout.session.completed` and `payment_intent.succeeded`, both keyed here by the payment
//! intent's id, so storage counts and announces it once. A subscription's payments are keyed by
//! their invoice (`invoice.paid`, and the session or payment intent that names that invoice).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::payload::{
    Charge, CheckoutSession, DisputeObject, Envelope, Invoice, PaymentIntent, Price,
    SubscriptionObject,
};
use super::NAME;
use crate::domain::{
    currency_exponent, Customer, Detail, Dispute, Event, EventKind, Item, Money, Refund,
    RefundScope, Risk, Sale, Subscription,
};
use crate::providers::{lenient, ProviderError};

fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("missing field `{field}`")))
}

/// Digits after the point in Stripe's amounts, which differ from ISO 4217 for a few currencies:
/// Stripe counts MGA in whole ariary, and ISK in hundredths although only whole krónur are
/// charged ("Supported currencies", docs.stripe.com/currencies).
fn stripe_exponent(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "JPY" | "KMF" | "KRW" | "MGA" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "JOD" | "KWD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// A Stripe amount (already in Stripe's minor units) as exact [`Money`]: ¥1099 is `1099 jpy`,
/// $10.99 is `1099 usd`, 5 ISK is `500 isk`. Never rounded: an amount the currency cannot hold
/// exactly is refused.
pub fn money(amount: i64, currency: &str) -> Result<Money, ProviderError> {
    let code = currency.trim().to_ascii_uppercase();
    let (ours, theirs) = (currency_exponent(&code), stripe_exponent(&code));
    let minor = if ours >= theirs {
        10i64
            .checked_pow(ours - theirs)
            .and_then(|f| amount.checked_mul(f))
    } else {
        let f = 10i64.pow(theirs - ours);
        (amount % f == 0).then_some(amount / f)
    };
    let minor = minor.ok_or_else(|| {
        ProviderError::Malformed(format!("{amount} is not an exact amount in {code}"))
    })?;
    Ok(Money::new(minor, code))
}

fn amount(value: Option<i64>, currency: Option<&str>, path: &str) -> Result<Money, ProviderError> {
    let value = required(value, &format!("{path}.amount"))?;
    let currency = required(currency, &format!("{path}.currency"))?;
    money(value, currency)
}

fn time(secs: Option<i64>) -> Option<DateTime<Utc>> {
    lenient::unix_seconds(secs)
}

/// Translates a verified event. An error names the field that is missing or wrong.
pub fn translate(value: &Value, received_at: DateTime<Utc>) -> Result<Event, ProviderError> {
    let envelope: Envelope = lenient::parse(value)?;
    let id = required(envelope.id.clone(), "id")?;
    let kind = required(envelope.kind.clone(), "type")?;
    let object = &envelope.data.object;
    let mut event = Event {
        provider: NAME.to_owned(),
        event_type: kind.clone(),
        kind: EventKind::Other,
        // Stripe resends an event with its id unchanged: the id is the key.
        idempotency_key: id,
        external_id: object
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        occurred_at: time(envelope.created).unwrap_or(received_at),
        test: envelope.livemode == Some(false),
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail: Detail::Other,
    };
    match kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            checkout(&lenient::parse_at(object, "data.object")?, &mut event)?
        }
        "payment_intent.succeeded" => {
            payment_intent(&lenient::parse_at(object, "data.object")?, &mut event)?
        }
        "invoice.paid" => invoice(&lenient::parse_at(object, "data.object")?, &mut event)?,
        "charge.refunded" => refund(
            &lenient::parse_at(object, "data.object")?,
            &envelope.data.previous_attributes,
            &mut event,
        )?,
        "charge.dispute.created" => {
            dispute(&lenient::parse_at(object, "data.object")?, &mut event)?
        }
        "customer.subscription.created" | "customer.subscription.deleted" => {
            subscription(&lenient::parse_at(object, "data.object")?, &mut event)?
        }
        _ => {}
    }
    Ok(event)
}

fn customer(name: Option<&String>, email: Option<&String>) -> Customer {
    Customer {
        name: name.cloned(),
        email: email.cloned(),
    }
}

/// A completed Checkout: a sale once paid. A delayed payment method completes the session
/// unpaid; its money arrives later as `checkout.session.async_payment_succeeded`.
fn checkout(s: &CheckoutSession, event: &mut Event) -> Result<(), ProviderError> {
    event.customer = customer(
        s.customer_details.name.as_ref(),
        s.customer_details
            .email
            .as_ref()
            .or(s.customer_email.as_ref()),
    );
    let paid = s.payment_status.as_deref() != Some("unpaid");
    // A subscription's first payment is its first invoice, which `invoice.paid` also reports.
    let key = match s.mode.as_deref() {
        Some("payment") | None => s.payment_intent.clone().or_else(|| s.id.clone()),
        Some("subscription") => s.invoice.clone(),
        _ => None,
    };
    let (Some(key), true) = (key, paid) else {
        return Ok(());
    };
    let total = amount(s.amount_total, s.currency.as_deref(), "data.object")?;
    event.kind = EventKind::Sale;
    event.external_id = key;
    event.detail = Detail::Sale(Sale {
        vat_minor: s
            .total_details
            .amount_tax
            .filter(|t| *t > 0)
            .map(|t| money(t, &total.currency).map(|m| m.minor))
            .transpose()?,
        transaction_id: s.payment_intent.clone(),
        total,
        ..Sale::default()
    });
    Ok(())
}

fn payment_intent(p: &PaymentIntent, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(p.id.clone(), "data.object.id")?;
    let total = amount(
        p.amount_received.filter(|a| *a > 0).or(p.amount),
        p.currency.as_deref(),
        "data.object",
    )?;
    event.customer = customer(None, p.receipt_email.as_ref());
    event.kind = EventKind::Sale;
    // A payment of an invoice is the invoice's sale (API versions before 2025-03-31 say so).
    event.external_id = p.invoice.clone().unwrap_or_else(|| id.clone());
    event.detail = Detail::Sale(Sale {
        total,
        transaction_id: p.latest_charge.clone().or(Some(id)),
        ..Sale::default()
    });
    Ok(())
}

/// A subscription's payment: the first (`subscription_create`) or a renewal
/// (`subscription_cycle`, `subscription_update`). Other invoices are reported by their payment
/// intent or Checkout session, and a free invoice (a trial) is no sale.
fn invoice(i: &Invoice, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(i.id.clone(), "data.object.id")?;
    event.customer = customer(i.customer_name.as_ref(), i.customer_email.as_ref());
    let subscription = i
        .billing_reason
        .as_deref()
        .is_some_and(|r| r.starts_with("subscription"));
    if !subscription || i.amount_paid.unwrap_or(0) <= 0 {
        return Ok(());
    }
    let total = amount(i.amount_paid, i.currency.as_deref(), "data.object")?;
    let items = i
        .lines
        .data
        .iter()
        .filter_map(|l| {
            let product = l
                .pricing
                .price_details
                .product
                .clone()
                .or_else(|| product_id(&l.price));
            let name = l.description.clone().or_else(|| l.price.nickname.clone())?;
            Some(Item {
                product_id: product,
                name,
                quantity: quantity(l.quantity),
                amount_minor: l
                    .amount
                    .filter(|a| *a >= 0)
                    .and_then(|a| money(a, &total.currency).ok())
                    .map(|m| m.minor),
                ..Item::default()
            })
        })
        .collect();
    event.kind = EventKind::Sale;
    event.external_id = id;
    if let Some(paid) = time(i.status_transitions.paid_at) {
        event.occurred_at = paid;
    }
    event.detail = Detail::Sale(Sale {
        vat_minor: i
            .tax
            .filter(|t| *t > 0)
            .map(|t| money(t, &total.currency).map(|m| m.minor))
            .transpose()?,
        transaction_id: i.payment_intent.clone(),
        order_id: i.number.clone(),
        items,
        total,
        ..Sale::default()
    });
    Ok(())
}

/// `charge.refunded` reports the charge with everything refunded so far. What this event gave
/// back is the difference from `previous_attributes.amount_refunded`; without it (events that
/// carry no earlier values), the newest refund in the charge's list; without that, the total so
/// far, of which storage counts what is new (`RefundScope::Cumulative`).
fn refund(c: &Charge, previous: &Value, event: &mut Event) -> Result<(), ProviderError> {
    let charge = required(c.id.clone(), "data.object.id")?;
    let currency = required(c.currency.as_deref(), "data.object.currency")?;
    let refunded = required(c.amount_refunded, "data.object.amount_refunded")?;
    let newest = c.refunds.as_ref().and_then(|l| l.data.first());
    let before = previous.get("amount_refunded").and_then(Value::as_i64);
    let (given, so_far) = match (before, newest.and_then(|r| r.amount)) {
        (Some(before), _) => (refunded - before, false),
        (None, Some(newest)) => (newest, false),
        (None, None) => (refunded, true),
    };
    if given <= 0 {
        return Ok(());
    }
    let amount = money(given, currency)?;
    let original = c.amount.map(|a| money(a, currency)).transpose()?;
    let whole = original.as_ref().is_some_and(|o| o.minor == amount.minor);
    let reason = newest.and_then(|r| r.reason.clone());
    event.customer = customer(
        c.billing_details.name.as_ref(),
        c.billing_details
            .email
            .as_ref()
            .or(c.receipt_email.as_ref()),
    );
    let sale = c
        .invoice
        .clone()
        .or_else(|| c.payment_intent.clone())
        .unwrap_or_else(|| charge.clone());
    event.kind = EventKind::Refund;
    event.external_id = sale.clone();
    event.detail = Detail::Refund(Refund {
        amount,
        sale_external_id: sale,
        original_total: original,
        purchased_at: time(c.created),
        risk: (reason.as_deref() == Some("fraudulent")).then_some(Risk::Fraud),
        reason: reason.map(|r| r.replace('_', " ")),
        scope: if so_far {
            RefundScope::Cumulative
        } else if whole {
            RefundScope::Whole
        } else {
            RefundScope::Partial
        },
        ..Refund::default()
    });
    Ok(())
}

fn dispute(d: &DisputeObject, event: &mut Event) -> Result<(), ProviderError> {
    let payment = d
        .payment_intent
        .clone()
        .or_else(|| d.charge.clone())
        .or_else(|| d.id.clone());
    let payment = required(payment, "data.object.charge")?;
    let amount = match (d.amount, d.currency.as_deref()) {
        (Some(a), Some(c)) => Some(money(a, c)?),
        _ => None,
    };
    event.kind = EventKind::Dispute;
    event.external_id = payment.clone();
    event.detail = Detail::Dispute(Dispute {
        transaction_id: payment,
        amount,
        opened: true,
        status: d.status.clone().map(|s| s.replace('_', " ")),
        reason: d.reason.clone().map(|r| r.replace('_', " ")),
        dispute_type: None,
        opened_at: time(d.created),
    });
    Ok(())
}

fn quantity(q: Option<i64>) -> u32 {
    q.and_then(|q| u32::try_from(q).ok())
        .filter(|q| *q > 0)
        .unwrap_or(1)
}

fn product_id(price: &Price) -> Option<String> {
    match &price.product {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The product's name when Stripe sent the product expanded, else its id.
fn product_label(price: &Price) -> Option<String> {
    price
        .product
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| product_id(price))
}

fn subscription(s: &SubscriptionObject, event: &mut Event) -> Result<(), ProviderError> {
    let id = required(s.id.clone(), "data.object.id")?;
    let item = s.items.data.first();
    let price = item.map(|i| &i.price);
    let cancelled = event.event_type == "customer.subscription.deleted";
    let amount = match (price.and_then(|p| p.unit_amount), price) {
        (Some(unit), Some(p)) => {
            let quantity = item.and_then(|i| i.quantity).unwrap_or(1).max(1);
            let currency = required(
                p.currency.as_deref(),
                "data.object.items.data[0].price.currency",
            )?;
            Some(money(unit.saturating_mul(quantity), currency)?)
        }
        _ => None,
    };
    event.kind = if cancelled {
        EventKind::SubscriptionCancelled
    } else {
        EventKind::SubscriptionStarted
    };
    event.external_id = id.clone();
    let ended = time(s.ended_at).or_else(|| time(s.canceled_at));
    let started = time(s.start_date);
    event.detail = Detail::Subscription(Subscription {
        subscription_id: id,
        status: s.status.clone(),
        plan: price.and_then(|p| p.nickname.clone().or_else(|| p.id.clone())),
        product: price.and_then(product_label),
        started_at: started,
        cancelled_at: if cancelled { ended } else { None },
        amount,
        next_charge_at: time(
            s.current_period_end
                .or_else(|| item.and_then(|i| i.current_period_end)),
        )
        .filter(|_| !cancelled),
    });
    Ok(())
}
