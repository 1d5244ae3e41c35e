//! The shapes of Xsolla's notifications, as far as the bot reads them. Every field is optional
//! here; the translation says which ones a notification type needs.

use serde::Deserialize;

use crate::providers::lenient::{opt_decimal, opt_i64, opt_string};

#[derive(Deserialize, Default)]
pub(super) struct Notification {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) notification_type: Option<String>,
    #[serde(default)]
    pub(super) transaction: Transaction,
    #[serde(default)]
    pub(super) user: User,
    #[serde(default)]
    pub(super) purchase: Purchase,
    #[serde(default)]
    pub(super) payment_details: PaymentDetails,
    #[serde(default)]
    pub(super) refund_details: RefundDetails,
    #[serde(default)]
    pub(super) order: Order,
    #[serde(default)]
    pub(super) items: Vec<OrderItem>,
    #[serde(default)]
    pub(super) subscription: SubscriptionInfo,
    /// The payment behind a Store order, in `order_paid` "with payment and transaction details".
    #[serde(default)]
    pub(super) billing: Option<Billing>,
    /// `adding` (a dispute opened) or `updating` (its status changed).
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) action: Option<String>,
    #[serde(default)]
    pub(super) dispute: DisputeInfo,
}

#[derive(Deserialize, Default)]
pub(super) struct Transaction {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) external_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) payment_date: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) dry_run: Option<i64>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) payment_method_name: Option<String>,
    /// A dispute's disputed amount.
    #[serde(default)]
    pub(super) total: Amount,
}

#[derive(Deserialize, Default)]
pub(super) struct User {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    /// Store orders name the player by the game's own id.
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) external_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) name: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Amount {
    #[serde(default, deserialize_with = "opt_decimal")]
    pub(super) amount: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Purchase {
    #[serde(default)]
    pub(super) total: Amount,
    #[serde(default)]
    pub(super) virtual_items: VirtualItems,
    /// A currency pack: the buyer paid money for units of the game's currency.
    #[serde(default)]
    pub(super) virtual_currency: Option<VirtualCurrency>,
    #[serde(default)]
    pub(super) subscription: Option<SubscriptionInfo>,
}

#[derive(Deserialize, Default)]
pub(super) struct VirtualItems {
    #[serde(default)]
    pub(super) items: Vec<VirtualItem>,
}

#[derive(Deserialize, Default)]
pub(super) struct VirtualItem {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) sku: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) amount: Option<i64>,
}

#[derive(Deserialize, Default)]
pub(super) struct VirtualCurrency {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) sku: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub(super) quantity: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub(super) amount: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct PaymentDetails {
    #[serde(default)]
    pub(super) payment: Amount,
    #[serde(default)]
    pub(super) xsolla_fee: Amount,
    #[serde(default)]
    pub(super) payment_method_fee: Amount,
}

#[derive(Deserialize, Default)]
pub(super) struct RefundDetails {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) code: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) reason: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Order {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub(super) amount: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
    /// `real` (money) or `virtual` (the game's own currency).
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency_type: Option<String>,
    /// The payment's transaction id: what ties the order to Xsolla's `payment` notification.
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) invoice_id: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct OrderItem {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) sku: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) name: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "opt_string")]
    pub(super) kind: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) quantity: Option<i64>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub(super) amount: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Billing {
    #[serde(default)]
    pub(super) transaction: Transaction,
    #[serde(default)]
    pub(super) payment_details: PaymentDetails,
}

#[derive(Deserialize, Default)]
pub(super) struct SubscriptionInfo {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) subscription_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) plan_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) product_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) date_create: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) date_end: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) date_next_charge: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub(super) amount: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) currency: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct DisputeInfo {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) incoming_date: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) reason: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "opt_string")]
    pub(super) kind: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) status: Option<String>,
}
