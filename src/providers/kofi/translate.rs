//! Pure translation of a verified Ko-fi payment into a domain [`Event`]. Every payment is money
//! received: donations, membership payments (the first and each renewal), commissions and shop
//! orders are all sales, named by what was bought. Amounts are decimal strings ("3.00"),
//! converted exactly.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::NAME;
use crate::domain::{decimal_to_minor, Customer, Detail, Event, EventKind, Item, Money, Sale};
use crate::providers::lenient::{self, opt_bool, opt_decimal, opt_i64, opt_string};
use crate::providers::ProviderError;

/// The transaction id of Ko-fi's documented examples: payments carrying it are told apart by
/// their message id instead, so that two of them are never taken for one payment.
const EXAMPLE_TRANSACTION: &str = "00000000-1111-2222-3333-444444444444";

#[derive(Deserialize, Default)]
struct Payment {
    #[serde(default, deserialize_with = "opt_string")]
    message_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    timestamp: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "opt_string")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    is_public: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    from_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    message: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    amount: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    url: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    currency: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    is_first_subscription_payment: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    kofi_transaction_id: Option<String>,
    #[serde(default)]
    shop_items: Option<Vec<ShopItem>>,
    #[serde(default, deserialize_with = "opt_string")]
    tier_name: Option<String>,
}

#[derive(Deserialize, Default)]
struct ShopItem {
    #[serde(default, deserialize_with = "opt_string")]
    direct_link_code: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    variation_name: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    quantity: Option<i64>,
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| ProviderError::Malformed(format!("missing field `{field}`")))
}

fn item(name: String, variant: Option<String>) -> Item {
    Item {
        name,
        quantity: 1,
        variant,
        ..Item::default()
    }
}

/// Translates a verified payment. An error names the field that is missing or wrong.
pub fn translate(value: &Value, received_at: DateTime<Utc>) -> Result<Event, ProviderError> {
    let p: Payment = lenient::parse(value)?;
    let message_id = required(p.message_id.clone(), "message_id")?;
    let kind = required(p.kind.clone(), "type")?;
    let currency = required(p.currency.clone(), "currency")?.to_ascii_uppercase();
    let amount = required(p.amount.clone(), "amount")?;
    let minor = decimal_to_minor(&amount, &currency).ok_or_else(|| {
        ProviderError::Malformed(format!(
            "`amount` is not an amount in {currency}: {amount:?}"
        ))
    })?;
    let items = match kind.as_str() {
        "Donation" => vec![item("Donation".to_owned(), None)],
        "Subscription" => {
            let name = match &p.tier_name {
                Some(tier) => format!("Membership: {tier}"),
                None => "Membership".to_owned(),
            };
            let first = p.is_first_subscription_payment == Some(true);
            let payment = if first { "first payment" } else { "renewal" };
            vec![item(name, Some(payment.to_owned()))]
        }
        "Commission" => vec![item("Commission".to_owned(), None)],
        "Shop Order" => p
            .shop_items
            .iter()
            .flatten()
            .map(|i| Item {
                product_id: i.direct_link_code.clone(),
                name: match &i.direct_link_code {
                    Some(code) => format!("Shop item {code}"),
                    None => "Shop item".to_owned(),
                },
                quantity: i
                    .quantity
                    .and_then(|q| u32::try_from(q).ok())
                    .filter(|q| *q > 0)
                    .unwrap_or(1),
                variant: i.variation_name.clone(),
                ..Item::default()
            })
            .collect(),
        _ => Vec::new(),
    };
    let transaction = p
        .kofi_transaction_id
        .clone()
        .filter(|t| t != EXAMPLE_TRANSACTION);
    let occurred_at = p
        .timestamp
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(received_at, |t| t.with_timezone(&Utc));
    let known = matches!(
        kind.as_str(),
        "Donation" | "Subscription" | "Commission" | "Shop Order"
    );
    Ok(Event {
        provider: NAME.to_owned(),
        event_type: kind,
        kind: if known {
            EventKind::Sale
        } else {
            EventKind::Other
        },
        // Ko-fi sends a payment again with the same message id until it gets a 200.
        idempotency_key: message_id.clone(),
        external_id: transaction.clone().unwrap_or(message_id),
        occurred_at,
        test: false,
        test_signed: false,
        customer: Customer {
            name: p.from_name.clone(),
            email: p.email.clone(),
        },
        url: p.url.clone().filter(|u| u.starts_with("https://")),
        // Ko-fi asks that a supporter's message marked private is never shown.
        comment: p.message.clone().filter(|_| p.is_public == Some(true)),
        detail: if known {
            Detail::Sale(Sale {
                total: Money::new(minor, currency),
                items,
                ..Sale::default()
            })
        } else {
            Detail::Other
        },
    })
}
