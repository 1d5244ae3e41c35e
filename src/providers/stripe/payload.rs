//! The shapes of Stripe's events, as far as the bot reads them. Every field is optional here; the
//! translation says which ones an event type needs. Expandable fields (`payment_intent`,
//! `invoice`, `product`, …) are read as ids whether Stripe sent the id or the whole object.

use serde::Deserialize;
use serde_json::Value;

use crate::providers::lenient::{opt_bool, opt_i64, opt_id, opt_string};

/// The event envelope: `{"id": "evt_…", "type": …, "created": …, "livemode": …, "data": …}`.
#[derive(Deserialize, Default)]
pub(super) struct Envelope {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "opt_string")]
    pub(super) kind: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) created: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    pub(super) livemode: Option<bool>,
    #[serde(default)]
    pub(super) data: Data,
}

#[derive(Deserialize, Default)]
pub(super) struct Data {
    #[serde(default)]
    pub(super) object: Value,
    /// The fields this event changed, with their values before it (`charge.refunded` carries the
    /// charge's earlier `amount_refunded` here).
    #[serde(default)]
    pub(super) previous_attributes: Value,
}

#[derive(Deserialize, Default)]
pub(super) struct CheckoutSession {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) mode: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) payment_status: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount_total: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) payment_intent: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) invoice: Option<String>,
    #[serde(default)]
    pub(super) customer_details: Party,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) customer_email: Option<String>,
    #[serde(default)]
    pub(super) total_details: TotalDetails,
}

#[derive(Deserialize, Default)]
pub(super) struct TotalDetails {
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount_tax: Option<i64>,
}

/// A name and an email, as `customer_details` and `billing_details` give them.
#[derive(Deserialize, Default)]
pub(super) struct Party {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) email: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct PaymentIntent {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount_received: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
    /// Only in API versions before 2025-03-31: the invoice this payment paid.
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) invoice: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) latest_charge: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) receipt_email: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Charge {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount_refunded: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) created: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) payment_intent: Option<String>,
    /// Only in API versions before 2025-03-31.
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) invoice: Option<String>,
    #[serde(default)]
    pub(super) billing_details: Party,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) receipt_email: Option<String>,
    /// Only in API versions before 2022-11-15, newest first.
    #[serde(default)]
    pub(super) refunds: Option<List<RefundObject>>,
}

#[derive(Deserialize)]
pub(super) struct List<T> {
    #[serde(default = "Vec::new")]
    pub(super) data: Vec<T>,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self { data: Vec::new() }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct RefundObject {
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) reason: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct DisputeObject {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) charge: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) payment_intent: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) reason: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) status: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) created: Option<i64>,
}

#[derive(Deserialize, Default)]
pub(super) struct SubscriptionObject {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) status: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) start_date: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) canceled_at: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) ended_at: Option<i64>,
    /// Top-level before API version 2025-03-31, on each item since.
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) current_period_end: Option<i64>,
    #[serde(default)]
    pub(super) items: List<SubscriptionItem>,
}

#[derive(Deserialize, Default)]
pub(super) struct SubscriptionItem {
    #[serde(default)]
    pub(super) price: Price,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) quantity: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) current_period_end: Option<i64>,
}

#[derive(Deserialize, Default)]
pub(super) struct Price {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) nickname: Option<String>,
    /// The product's id, or with the product expanded, the object (whose `name` is read).
    #[serde(default)]
    pub(super) product: Value,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) unit_amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Invoice {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) number: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount_paid: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) tax: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) billing_reason: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) customer_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) customer_email: Option<String>,
    /// Only in API versions before 2025-03-31.
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) payment_intent: Option<String>,
    #[serde(default)]
    pub(super) status_transitions: StatusTransitions,
    #[serde(default)]
    pub(super) lines: List<InvoiceLine>,
}

#[derive(Deserialize, Default)]
pub(super) struct StatusTransitions {
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) paid_at: Option<i64>,
}

#[derive(Deserialize, Default)]
pub(super) struct InvoiceLine {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) description: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) quantity: Option<i64>,
    /// Before API version 2025-03-31; since then the price sits under `pricing`.
    #[serde(default)]
    pub(super) price: Price,
    #[serde(default)]
    pub(super) pricing: Pricing,
}

#[derive(Deserialize, Default)]
pub(super) struct Pricing {
    #[serde(default)]
    pub(super) price_details: PriceDetails,
}

#[derive(Deserialize, Default)]
pub(super) struct PriceDetails {
    #[serde(default, deserialize_with = "opt_id")]
    pub(super) product: Option<String>,
}
