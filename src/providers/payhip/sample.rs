//! Signed sample payloads for `simulate` and `/test`.

use chrono::{DateTime, Utc};

use super::{sha256_hex, SIMULATED_MARKER};
use crate::config::Secret;

/// A realistic payload of `kind` for `simulate` and `/test`, signed with the seller's key and
/// marked as a test. Ids are unique per call so each simulation is its own event.
pub fn sample(kind: &str, api_key: &Secret, now: DateTime<Utc>) -> Option<serde_json::Value> {
    let ts = now.timestamp();
    let id = format!("SIM-{}", now.timestamp_micros());
    let mut v = match kind {
        "paid" | "refunded" => serde_json::json!({
            "id": id, "email": "test.buyer@example.com", "currency": "USD", "price": 2999,
            "vat_applied": false, "payment_type": "card", "stripe_fee": 117, "payhip_fee": 150,
            "date": ts, "stripe_charge_id": "ch_simulated",
            "items": [{"product_id": "1", "product_name": "Sample Product", "quantity": "1",
                       "on_sale": true, "used_coupon": true, "coupon_code": "TEST10",
                       "coupon_percentage": "10", "coupon_amount": 333, "variant_name": "Standard"}],
            "coupons": [{"code": "TEST10", "percentage": 10, "amount": 333}]
        }),
        "subscription.created" | "subscription.deleted" => serde_json::json!({
            "subscription_id": id, "customer_id": "CUS-SIM", "status": "active",
            "customer_email": "test.member@example.com", "customer_first_name": "Test",
            "customer_last_name": "Member", "plan_name": "Monthly", "product_name": "Sample Membership",
            "date_subscription_started": ts - 86_400 * 30
        }),
        _ => return None,
    };
    if kind == "refunded" {
        v["amount_refunded"] = serde_json::json!(2999);
        v["date_created"] = serde_json::json!(ts - 3600);
        v["date_refunded"] = serde_json::json!(ts);
    }
    if kind == "subscription.deleted" {
        v["status"] = serde_json::json!("canceled");
        v["date_subscription_deleted"] = serde_json::json!(ts);
    }
    v["type"] = serde_json::json!(kind);
    v["signature"] = serde_json::json!(sha256_hex(api_key.expose().as_bytes()));
    v[SIMULATED_MARKER] = serde_json::json!(true);
    Some(v)
}

/// The event types `sample` can produce.
pub const SAMPLE_KINDS: [&str; 4] = [
    "paid",
    "refunded",
    "subscription.created",
    "subscription.deleted",
];
