//! Xsolla Store orders: `order_paid` and `order_canceled`, paid in money or in the game's own
//! virtual currency. An order paid in money is keyed by its payment's transaction id
//! (`invoice_id`), the key of the matching `payment` notification, so the two are one purchase.

use super::payload::{Amount, Notification, OrderItem};
use super::translate::{money, optional_minor, quantity, required, time, units};
use crate::domain::{
    decimal_to_scaled, Detail, Event, EventKind, Item, Money, Refund, RefundScope, Sale,
};
use crate::providers::ProviderError;

const STORE: &str = "Xsolla Store";

/// A Store order paid (`order_paid`) or cancelled (`order_canceled`), in money or in the game's
/// virtual currency.
pub(super) fn order(n: &Notification, event: &mut Event) -> Result<(), ProviderError> {
    let paid = event.event_type == "order_paid";
    let billing = n.billing.as_ref();
    // Xsolla's schema requires the order id; it names this notification. The purchase is keyed by
    // the payment's transaction id so that `payment` and `order_paid` meet; an order without a
    // payment (free, or paid in virtual currency) by its order id.
    let order_id = required(n.order.id.clone(), "order.id")?;
    let id = n
        .order
        .invoice_id
        .clone()
        .or_else(|| billing.and_then(|b| b.transaction.id.clone()))
        .unwrap_or_else(|| format!("order-{order_id}"));
    let virtual_currency = n
        .order
        .currency_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("virtual"));
    let total = if virtual_currency {
        let name = required(n.order.currency.clone(), "order.currency")?;
        let text = required(n.order.amount.clone(), "order.amount")?;
        let count = units(Some(&text)).ok_or_else(|| {
            ProviderError::Malformed(format!(
                "`order.amount` is not a whole number of {name}: {text:?}"
            ))
        })?;
        Money::virtual_units(count, name)
    } else {
        money(
            &Amount {
                amount: n.order.amount.clone(),
                currency: n.order.currency.clone(),
            },
            "order",
        )?
    };
    let items = n.items.iter().map(|i| order_item(i, &total)).collect();
    let payment_method = match billing.and_then(|b| b.transaction.payment_method_name.clone()) {
        Some(method) => format!("{STORE} ({method})"),
        None => STORE.to_owned(),
    };
    event.idempotency_key = format!("{}:{order_id}", event.event_type);
    event.external_id = id.clone();
    if billing.is_some_and(|b| b.transaction.dry_run.unwrap_or(0) != 0) {
        event.test = true;
    }
    if paid {
        let fees: Vec<i64> = billing
            .into_iter()
            .flat_map(|b| {
                [
                    &b.payment_details.xsolla_fee,
                    &b.payment_details.payment_method_fee,
                ]
            })
            .filter_map(|a| optional_minor(a, &total.currency))
            .filter(|_| !virtual_currency)
            .collect();
        event.kind = EventKind::Sale;
        if let Some(at) = billing.and_then(|b| time(b.transaction.payment_date.as_deref())) {
            event.occurred_at = at;
        }
        event.detail = Detail::Sale(Sale {
            total,
            fees_minor: (!fees.is_empty()).then(|| fees.iter().sum()),
            items,
            payment_method: Some(payment_method),
            transaction_id: billing.and_then(|b| b.transaction.external_id.clone()),
            order_id: Some(order_id.clone()),
            ..Sale::default()
        });
    } else {
        event.kind = EventKind::Refund;
        event.detail = Detail::Refund(Refund {
            amount: total.clone(),
            sale_external_id: id,
            original_total: Some(total),
            items,
            payment_method: Some(payment_method),
            scope: RefundScope::Whole,
            order_id: Some(order_id.clone()),
            ..Refund::default()
        });
    }
    Ok(())
}

fn order_item(i: &OrderItem, total: &Money) -> Item {
    let sku = i.sku.clone();
    let name = i.name.clone().or_else(|| sku.clone());
    // A line of virtual currency counts units of it: shown as "1500 gold", one line.
    if i.kind.as_deref() == Some("virtual_currency") {
        let name = name.unwrap_or_else(|| "virtual currency".to_owned());
        return Item {
            product_id: sku,
            name: match i.quantity {
                Some(q) => format!("{q} {name}"),
                None => name,
            },
            quantity: 1,
            ..Item::default()
        };
    }
    Item {
        product_id: sku,
        name: name.unwrap_or_else(|| "Item".to_owned()),
        quantity: quantity(i.quantity),
        amount_minor: i
            .amount
            .as_deref()
            .and_then(|a| decimal_to_scaled(a, total.exponent())),
        ..Item::default()
    }
}
