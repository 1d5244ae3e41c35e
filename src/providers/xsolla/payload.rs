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
}

#[derive(Deserialize, Default)]
pub(super) struct User {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
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
}

#[derive(Deserialize, Default)]
pub(super) struct OrderItem {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) sku: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) name: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub(super) quantity: Option<i64>,
    #[serde(default, deserialize_with = "opt_decimal")]
    pub(super) amount: Option<String>,
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
}
