//! The provider-neutral model. Providers translate their payloads into [`Event`]; storage, the
//! outbox, embeds and stats know only these types.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

mod kind;
mod money;
mod webhook;

pub use kind::{EventKind, NoticeKind};
pub use money::{currency_exponent, decimal_to_minor, decimal_to_scaled, Money};
pub use webhook::DiscordWebhook;

/// The buyer. Private: shown only when `privacy.showCustomer` is on, and the email even then masked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl Customer {
    /// `jo***@example.com`: enough for a seller to recognise a buyer, useless to a scraper.
    pub fn masked_email(&self) -> Option<String> {
        let email = self.email.as_deref()?;
        let (local, domain) = email.split_once('@')?;
        let keep: String = local.chars().take(2).collect();
        Some(format!("{keep}***@{domain}"))
    }

    pub fn display_name(&self) -> Option<String> {
        self.name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.masked_email())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub product_id: Option<String>,
    /// The store's short product key when it has one besides the id (Payhip's `AbC12` of
    /// payhip.com/b/AbC12): what sellers name a product by in `roles.products`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_key: Option<String>,
    pub name: String,
    pub quantity: u32,
    pub variant: Option<String>,
    pub on_sale: bool,
    /// Price of the line in minor units, when the provider sends it.
    pub amount_minor: Option<i64>,
    /// The key the store issued for this line (Payhip's software licenses). Kept for features
    /// that look a buyer up by key; a secret, so never logged or shown in a notice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_key: Option<LicenseKey>,
}

/// A license key: whoever has it can activate the product, so its `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LicenseKey(pub String);

impl fmt::Debug for LicenseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LicenseKey(***)")
    }
}

/// The buyer's answers to the seller's checkout questions, exactly as the store sent them (their
/// shape varies by store and form). Personal data: kept with the sale, never logged or announced.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckoutAnswers(pub serde_json::Value);

impl fmt::Debug for CheckoutAnswers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_array() {
            Some(list) => write!(f, "CheckoutAnswers({} answers)", list.len()),
            None => f.write_str("CheckoutAnswers(…)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coupon {
    pub code: String,
    /// As sent by the provider ("10", "12.5"); a label, never used in arithmetic.
    pub percentage: Option<String>,
    pub amount_minor: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sale {
    pub total: Money,
    /// Provider and payment fees in the same currency, when known.
    pub fees_minor: Option<i64>,
    pub items: Vec<Item>,
    pub coupons: Vec<Coupon>,
    pub payment_method: Option<String>,
    pub vat_applied: Option<bool>,
    /// The payment processor's id (Stripe charge, PayPal transaction), if any.
    pub transaction_id: Option<String>,
    /// VAT included in the total, in the same currency, when the store says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_minor: Option<i64>,
    /// Where the VAT was charged, as the store names it ("Ireland").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_answers: Option<CheckoutAnswers>,
    /// The store's order number when it differs from the transaction id (Xsolla Store orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

impl Sale {
    /// What the seller keeps after fees, when fees are known.
    pub fn net(&self) -> Option<Money> {
        self.fees_minor
            .map(|fees| Money::new(self.total.minor - fees, self.total.currency.clone()))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub amount: Money,
    /// The provider's id of the refunded sale; storage links the refund through it.
    pub sale_external_id: String,
    pub original_total: Option<Money>,
    pub purchased_at: Option<DateTime<Utc>>,
    pub items: Vec<Item>,
    pub payment_method: Option<String>,
    pub vat_applied: Option<bool>,
    pub reason: Option<String>,
    /// The store's own code for the reason (Xsolla's `refund_details.code`), kept for reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Set when the money went back because of a chargeback or fraud, not a request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    #[serde(default)]
    pub scope: RefundScope,
    /// The store's order number when it differs from the transaction id (Xsolla Store orders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
}

/// Why money went back without the seller choosing to give it: flagged in notices and counted on
/// a line of its own in `/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// The buyer's bank or payment system took the money back.
    Chargeback,
    /// The store or the payment system judged the payment fraudulent.
    Fraud,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Chargeback => "chargeback",
            Risk::Fraud => "fraud",
        }
    }
}

/// How much of a purchase a refund gives back, as far as the store says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundScope {
    /// The store does not say (Payhip): every refund event counts on its own.
    #[default]
    Unknown,
    /// The whole purchase. Stores that send two notifications for one cancellation (Xsolla's
    /// `refund` and `order_canceled`) describe the same refund twice: it counts once.
    Whole,
    /// Part of the purchase (Xsolla's `partial_refund`); each one counts.
    Partial,
    /// Everything refunded of the purchase so far, as some stores report it (Lemon Squeezy's
    /// `refunded_amount`). Storage counts only what was not counted yet, in whatever order the
    /// reports arrive, and rewrites the event to that amount (and to `Partial` or `Whole`).
    Cumulative,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub subscription_id: String,
    pub status: Option<String>,
    pub plan: Option<String>,
    pub product: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub amount: Option<Money>,
    /// When the store will charge next: the date that places an update in the subscription's
    /// history, since Xsolla's updates carry no date of their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_charge_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detail {
    Sale(Sale),
    Refund(Refund),
    Subscription(Subscription),
    Dispute(Dispute),
    Blocked(Blocked),
    /// A signed notification the bot could not read in full: kept raw for the record, never
    /// counted or announced (see [`crate::bounds::out_of_range`]).
    Unreadable(Unreadable),
    Other,
}

/// A buyer's dispute of a payment, as the store reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    /// The disputed payment, as its sale is keyed.
    pub transaction_id: String,
    pub amount: Option<Money>,
    /// `true` when this notification opens the dispute, `false` for a change of its status.
    pub opened: bool,
    pub status: Option<String>,
    pub reason: Option<String>,
    /// The store's kind of dispute ("retrieval", "1st_time_chargeback", …).
    pub dispute_type: Option<String>,
    pub opened_at: Option<DateTime<Utc>>,
}

/// A payment the store's anti-fraud check refused. Nothing was paid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    pub transaction_id: String,
    pub reason: Option<String>,
    pub reason_code: Option<String>,
}

/// Why a signed notification could not be read: names the field, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    pub reason: String,
}

/// One provider notification, translated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The store's name: its provider's registered name for a single-store section ("payhip"),
    /// or the seller's name for a store of the `stores` list ("eu"). Ids, roll-ups and filters
    /// are per store, so two accounts of one provider never mix.
    pub provider: String,
    /// The provider's own name for the event, e.g. "paid".
    pub event_type: String,
    pub kind: EventKind,
    /// Unique per provider: the same notification sent again yields the same key.
    pub idempotency_key: String,
    /// The order / transaction / subscription id shown to sellers.
    pub external_id: String,
    pub occurred_at: DateTime<Utc>,
    /// A provider test (Payhip's test button, Xsolla dry-run, `simulate`): never counted.
    pub test: bool,
    /// A test that carried a valid signature (`simulate`, `/test`): announced even when unsigned
    /// tests are not, since only the seller can send one.
    #[serde(default)]
    pub test_signed: bool,
    pub customer: Customer,
    /// A link to the order or product, when known.
    pub url: Option<String>,
    pub comment: Option<String>,
    pub detail: Detail,
}

impl Event {
    /// The headline amount: a sale's total, a refund's amount, a subscription's price.
    pub fn amount(&self) -> Option<&Money> {
        match &self.detail {
            Detail::Sale(s) => Some(&s.total),
            Detail::Refund(r) => Some(&r.amount),
            Detail::Subscription(s) => s.amount.as_ref(),
            Detail::Dispute(d) => d.amount.as_ref(),
            Detail::Blocked(_) | Detail::Unreadable(_) | Detail::Other => None,
        }
    }

    pub fn payment_method(&self) -> Option<&str> {
        match &self.detail {
            Detail::Sale(s) => s.payment_method.as_deref(),
            Detail::Refund(r) => r.payment_method.as_deref(),
            _ => None,
        }
    }

    /// Product names joined for one-line displays.
    pub fn product_summary(&self) -> Option<String> {
        let items = match &self.detail {
            Detail::Sale(s) => &s.items,
            Detail::Refund(r) => &r.items,
            Detail::Subscription(s) => {
                return s.product.clone().or_else(|| s.plan.clone());
            }
            Detail::Dispute(_) | Detail::Blocked(_) | Detail::Unreadable(_) | Detail::Other => {
                return None
            }
        };
        (!items.is_empty()).then(|| {
            items
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
    }
}

#[cfg(test)]
#[path = "domain_tests.rs"]
mod tests;
