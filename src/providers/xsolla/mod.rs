//! Xsolla (Pay Station and Store): JSON notifications signed in the `Authorization: Signature …`
//! header with SHA-1 over the raw body followed by the project's secret key. Xsolla expects 204 on
//! success and a 400 `INVALID_SIGNATURE` error body for a bad signature.
//!
//! A notification that carries a valid signature is never refused: with automatic refunds on,
//! Xsolla refunds the buyer of an `order_paid` answered with any 4xx, so a body the bot cannot read
//! in full is kept raw and acknowledged instead (see [`read`]).

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::{json_object, sha256_hex, Provider, ProviderError, Reply, Sealed, Stored};
use crate::config::{Config, ProviderConfig, Secret};
use crate::domain::{Customer, Detail, Event, EventKind, Unreadable};

mod orders;
mod payload;
mod reasons;
mod translate;

pub use translate::translate;

pub const NAME: &str = crate::config::table::XSOLLA.name;
pub use crate::config::XSOLLA_DEFAULT_PATH as DEFAULT_PATH;

const NOT_CONFIGURED: &str = "Xsolla webhooks are not enabled: set XSOLLA_SECRET_KEY to the secret key shown in Xsolla under Project settings > Webhooks, then restart the bot";

/// The log line for a signed notification kept raw. Stable, so sellers can alert on it.
pub const UNREADABLE_LOG: &str =
    "signed Xsolla notification could not be read in full: stored raw and acknowledged with 204, not counted";

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

    fn quarantine(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Option<Sealed> {
        let headers = super::signature_headers(headers, &["authorization"])?;
        translate(&json_object(body).ok()?, body, received_at).ok()?;
        Some(Sealed {
            headers,
            body: body.to_vec(),
        })
    }

    fn parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError> {
        self.verify(headers, body)?;
        Ok(read(body, received_at))
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

/// Translates a body whose signature was verified. Never fails: a body that cannot be read in
/// full becomes an [`Unreadable`] event, kept raw and never counted, and an error is logged.
/// Answering 4xx instead would make Xsolla refund the buyer when automatic refunds are on, and
/// a signed body is Xsolla's, so there is nothing to protect against by refusing it.
pub fn read(body: &[u8], received_at: DateTime<Utc>) -> Event {
    let value = json_object(body);
    let result = value
        .as_ref()
        .map_err(|e| ProviderError::Malformed(e.to_string()))
        .and_then(|v| translate(v, body, received_at));
    match result {
        Ok(event) => event,
        Err(error) => {
            let value = value.unwrap_or(Value::Null);
            let kind = value
                .get("notification_type")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_owned();
            let reason = error.to_string();
            tracing::error!(
                provider = NAME,
                notification_type = ?kind,
                reason = ?reason,
                "{UNREADABLE_LOG}"
            );
            unreadable(&value, kind, reason, body, received_at)
        }
    }
}

fn unreadable(
    value: &Value,
    kind: String,
    reason: String,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Event {
    let text = |pointer: &str| {
        value.pointer(pointer).and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let dry_run = text("/transaction/dry_run")
        .or_else(|| text("/billing/transaction/dry_run"))
        .is_some_and(|d| d != "0");
    Event {
        provider: NAME.to_owned(),
        external_id: text("/transaction/id")
            .or_else(|| text("/order/invoice_id"))
            .or_else(|| text("/order/id"))
            .unwrap_or_default(),
        idempotency_key: format!("unreadable:{kind}:{}", sha256_hex(body)),
        event_type: kind,
        kind: EventKind::Other,
        occurred_at: received_at,
        test: dry_run,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail: Detail::Unreadable(Unreadable { reason }),
    }
}

#[cfg(test)]
mod tests;
