//! Xsolla (Pay Station and Store): JSON notifications signed in the `Authorization: Signature …`
//! header with SHA-1 over the raw body followed by the project's secret key. Xsolla expects 204 on
//! success and a 400 `INVALID_SIGNATURE` error body for a bad signature.

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::lenient::{self, opt_decimal, opt_i64, opt_string};
use super::{json_object, sha256_hex, Provider, ProviderError, Reply, Stored};
use crate::config::{Config, ProviderConfig, Secret};
use crate::domain::{
    decimal_to_minor, Customer, Detail, Event, EventKind, Item, Money, Refund, Sale, Subscription,
};

pub const NAME: &str = "xsolla";
pub use crate::config::XSOLLA_DEFAULT_PATH as DEFAULT_PATH;

const NOT_CONFIGURED: &str = "Xsolla webhooks are not enabled: set XSOLLA_SECRET_KEY to the secret key shown in Xsolla under Project settings > Webhooks, then restart the bot";

pub struct Xsolla {
    secret: Option<Secret>,
}

impl Xsolla {
    pub fn new(secret: Option<&Secret>) -> Self {
        Self {
            secret: secret.cloned(),
        }
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), ProviderError> {
        let Some(secret) = &self.secret else {
            return Err(ProviderError::NotConfigured(NOT_CONFIGURED));
        };
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().strip_prefix("Signature "))
            .ok_or(ProviderError::BadSignature(
                "missing `Authorization: Signature <hex>` header",
            ))?;
        let expected = signature(body, secret);
        if bool::from(
            given
                .trim()
                .to_ascii_lowercase()
                .as_bytes()
                .ct_eq(expected.as_bytes()),
        ) {
            Ok(())
        } else {
            Err(ProviderError::BadSignature(
                "signature does not match this project's secret key",
            ))
        }
    }
}

/// Lowercase hex SHA-1 of the body bytes followed by the secret, as Xsolla computes it.
pub fn signature(body: &[u8], secret: &Secret) -> String {
    let mut h = Sha1::new();
    h.update(body);
    h.update(secret.expose().as_bytes());
    hex::encode(h.finalize())
}

impl Provider for Xsolla {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display_name(&self) -> &'static str {
        "Xsolla"
    }

    fn route(&self, config: &Config) -> String {
        config
            .xsolla_config
            .webhook_path
            .clone()
            .unwrap_or_else(|| DEFAULT_PATH.to_owned())
    }

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        &config.xsolla_config
    }

    fn missing_secret_hint(&self) -> Option<&'static str> {
        self.secret.is_none().then_some(NOT_CONFIGURED)
    }

    fn parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError> {
        self.verify(headers, body)?;
        let value = json_object(body)?;
        translate(&value, body, received_at)
    }

    /// Xsolla documents 204 with an empty body as success, for duplicates as well.
    fn accepted(&self, _stored: Stored, _event: &Event) -> Reply {
        (StatusCode::NO_CONTENT, None)
    }

    fn rejected(&self, error: &ProviderError) -> Reply {
        let (status, code) = match error {
            ProviderError::NotConfigured(_) => (StatusCode::SERVICE_UNAVAILABLE, "NOT_CONFIGURED"),
            ProviderError::BadSignature(_) => (StatusCode::BAD_REQUEST, "INVALID_SIGNATURE"),
            ProviderError::Malformed(_) => (StatusCode::BAD_REQUEST, "INVALID_PARAMETER"),
        };
        (
            status,
            Some(json!({ "error": { "code": code, "message": error.to_string() } })),
        )
    }
}

#[derive(Deserialize, Default)]
struct Notification {
    #[serde(default, deserialize_with = "opt_string")]
    notification_type: Option<String>,
    #[serde(default)]
    transaction: Transaction,
    #[serde(default)]
    user: User,
    #[serde(default)]
    purchase: Purchase,
    #[serde(default)]
    payment_details: PaymentDetails,
    #[serde(default)]
    refund_details: RefundDetails,
    #[serde(default)]
    order: Order,
    #[serde(default)]
    items: Vec<OrderItem>,
    #[serde(default)]
    subscription: SubscriptionInfo,
}

#[derive(Deserialize, Default)]
struct Transaction {
    #[serde(default, deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    external_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    payment_date: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    dry_run: Option<i64>,
}

#[derive(Deserialize, Default)]
struct User {
    #[serde(default, deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    name: Option<String>,
}

#[derive(Deserialize, Default)]
struct Amount {
    #[serde(default, deserialize_with = "opt_decimal")]
    amount: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    currency: Option<String>,
}

#[derive(Deserialize, Default)]
struct Purchase {
    #[serde(default)]
    total: Amount,
    #[serde(default)]
    virtual_items: VirtualItems,
}

#[derive(Deserialize, Default)]
struct VirtualItems {
    #[serde(default)]
    items: Vec<VirtualItem>,
}

#[derive(Deserialize, Default)]
struct VirtualItem {
    #[serde(default, deserialize_with = "opt_string")]
    sku: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    amount: Option<i64>,
}

#[derive(Deserialize, Default)]
struct PaymentDetails {
    #[serde(default)]
    payment: Amount,
    #[serde(default)]
    xsolla_fee: Amount,
    #[serde(default)]
    payment_method_fee: Amount,
}

#[derive(Deserialize, Default)]
struct RefundDetails {
    #[serde(default, deserialize_with = "opt_string")]
    reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Order {
    #[serde(default, deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_decimal")]
    amount: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    currency: Option<String>,
}

#[derive(Deserialize, Default)]
struct OrderItem {
    #[serde(default, deserialize_with = "opt_string")]
    sku: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    quantity: Option<i64>,
    #[serde(default, deserialize_with = "opt_decimal")]
    amount: Option<String>,
}

#[derive(Deserialize, Default)]
struct SubscriptionInfo {
    #[serde(default, deserialize_with = "opt_string")]
    subscription_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    plan_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    product_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    date_create: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    date_end: Option<String>,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "xsolla-secret";

    fn headers_for(body: &[u8]) -> HeaderMap {
        let mut h = HeaderMap::new();
        let sig = signature(body, &Secret::new(SECRET));
        h.insert("authorization", format!("Signature {sig}").parse().unwrap());
        h
    }

    fn parse(v: Value) -> Result<Event, ProviderError> {
        let body = serde_json::to_vec(&v).unwrap();
        Xsolla::new(Some(&Secret::new(SECRET))).parse(&headers_for(&body), &body, Utc::now())
    }

    #[test]
    fn payment_amounts_become_exact_minor_units() {
        for (amount, currency, minor) in [
            (json!("2.00"), "USD", 200),
            (json!(9.99), "EUR", 999),
            (json!(1200), "JPY", 1200),
            (json!("0.1"), "USD", 10),
        ] {
            let e = parse(json!({
                "notification_type": "payment",
                "transaction": {"id": 87654321, "payment_date": "2026-11-20T10:00:00+03:00", "dry_run": 0},
                "purchase": {"total": {"amount": amount, "currency": currency}},
                "user": {"id": "u1", "email": "gamer@example.com"}
            }))
            .unwrap();
            assert_eq!(e.kind, EventKind::Sale);
            assert_eq!(e.idempotency_key, "payment:87654321");
            assert_eq!(e.amount(), Some(&Money::new(minor, currency)));
            assert_eq!(e.occurred_at.to_rfc3339(), "2026-11-20T07:00:00+00:00");
        }
    }

    #[test]
    fn sub_unit_amounts_are_refused_rather_than_rounded() {
        let r = parse(
            json!({"notification_type": "payment", "transaction": {"id": 1},
            "purchase": {"total": {"amount": "1.005", "currency": "USD"}}}),
        );
        assert!(
            matches!(r, Err(ProviderError::Malformed(m)) if m.contains("purchase.total.amount"))
        );
    }

    #[test]
    fn store_orders_and_cancellations() {
        let paid = parse(json!({"notification_type": "order_paid",
            "order": {"id": 555, "amount": "19.98", "currency": "USD", "status": "paid"},
            "items": [{"sku": "gems-100", "quantity": 2, "amount": "9.99"}]}))
        .unwrap();
        assert_eq!(paid.kind, EventKind::Sale);
        assert_eq!(paid.external_id, "555");
        let cancelled = parse(json!({"notification_type": "order_canceled",
            "order": {"id": 555, "amount": "19.98", "currency": "USD"}}))
        .unwrap();
        let Detail::Refund(r) = &cancelled.detail else {
            panic!()
        };
        assert_eq!(r.sale_external_id, "555");
    }

    #[test]
    fn dry_runs_are_tests_and_unknown_types_are_kept() {
        let e = parse(
            json!({"notification_type": "payment", "transaction": {"id": 2, "dry_run": 1},
            "purchase": {"total": {"amount": "1", "currency": "USD"}}}),
        )
        .unwrap();
        assert!(e.test);
        let v =
            parse(json!({"notification_type": "user_validation", "user": {"id": "u1"}})).unwrap();
        assert_eq!(v.kind, EventKind::Other);
    }

    #[test]
    fn signatures_are_checked_over_the_exact_bytes() {
        let x = Xsolla::new(Some(&Secret::new(SECRET)));
        let body = br#"{"notification_type": "payment"}"#;
        let reencoded = br#"{"notification_type":"payment"}"#;
        let r = x.parse(&headers_for(body), reencoded, Utc::now());
        assert!(matches!(r, Err(ProviderError::BadSignature(_))));
        let r = x.parse(&HeaderMap::new(), body, Utc::now());
        assert!(matches!(r, Err(ProviderError::BadSignature(_))));
        let (status, reply) = x.rejected(&r.unwrap_err());
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.unwrap()["error"]["code"], "INVALID_SIGNATURE");
    }
}
