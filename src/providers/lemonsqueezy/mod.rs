//! Lemon Squeezy: JSON:API bodies (`{"meta": {"event_name": …}, "data": {…}}`) signed in
//! `X-Signature` with the hex HMAC-SHA256 of the raw body, keyed with the webhook's signing
//! secret. Lemon Squeezy retries anything but a 2xx three more times, then gives up; a correctly
//! signed body the bot cannot read is therefore kept raw rather than refused (see [`kept`]).

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::kept::{self, Known};
use super::registry::Store;
use super::{json_object, Provider, ProviderError, Sealed};
use crate::config::{table, Config, ProviderConfig, Secret};
use crate::domain::Event;

mod translate;

pub use translate::translate;

pub const NAME: &str = table::LEMONSQUEEZY.name;

const SECRET_VAR: &str = table::LEMONSQUEEZY.secret;

const NOT_CONFIGURED: &str = "Lemon Squeezy webhooks are not enabled: set LEMONSQUEEZY_SIGNING_SECRET to the signing secret you gave the webhook in Lemon Squeezy (Settings > Webhooks), then restart the bot";

/// The registry's entry for Lemon Squeezy.
pub const STORE: Store = Store {
    keys: &table::LEMONSQUEEZY,
    build: |s| std::sync::Arc::new(LemonSqueezy::new(s.stores.get(SECRET_VAR))),
};

pub struct LemonSqueezy {
    secret: Option<Secret>,
}

impl LemonSqueezy {
    pub fn new(secret: Option<&Secret>) -> Self {
        Self {
            secret: secret.cloned(),
        }
    }
}

/// Lowercase hex HMAC-SHA256 of the body, as Lemon Squeezy sends it in `X-Signature`.
pub fn signature(body: &[u8], secret: &Secret) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

impl Provider for LemonSqueezy {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display_name(&self) -> &'static str {
        "Lemon Squeezy"
    }

    fn route(&self, config: &Config) -> String {
        table::LEMONSQUEEZY.route(config)
    }

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        table::LEMONSQUEEZY.settings(config)
    }

    fn missing_secret_hint(&self) -> Option<&'static str> {
        self.secret.is_none().then_some(NOT_CONFIGURED)
    }

    fn relayed_headers(&self) -> &'static [&'static str] {
        &["x-signature", "x-event-name", "content-type"]
    }

    fn quarantine(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Option<Sealed> {
        let kept = super::signature_headers(headers, &["x-signature", "x-event-name"])?;
        let event_name = headers.get("x-event-name").and_then(|v| v.to_str().ok());
        translate(&json_object(body).ok()?, event_name, body, received_at).ok()?;
        Some(Sealed {
            headers: kept,
            body: body.to_vec(),
        })
    }

    fn parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError> {
        let Some(secret) = &self.secret else {
            return Err(ProviderError::NotConfigured(NOT_CONFIGURED));
        };
        let given = headers
            .get("x-signature")
            .and_then(|v| v.to_str().ok())
            .ok_or(ProviderError::BadSignature("missing `X-Signature` header"))?;
        let expected = signature(body, secret);
        let given = given.trim().to_ascii_lowercase();
        if !bool::from(given.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(ProviderError::BadSignature(
                "signature does not match this webhook's signing secret",
            ));
        }
        let header_name = headers.get("x-event-name").and_then(|v| v.to_str().ok());
        Ok(read(body, header_name, received_at))
    }
}

/// Translates a verified body; one that cannot be read in full is kept raw (see [`kept`]).
/// `event_name` is the `X-Event-Name` header, used when the body does not name its event.
pub fn read(body: &[u8], event_name: Option<&str>, received_at: DateTime<Utc>) -> Event {
    let value = json_object(body);
    let result = value
        .as_ref()
        .map_err(|e| ProviderError::Malformed(e.to_string()))
        .and_then(|v| translate(v, event_name, body, received_at));
    match result {
        Ok(event) => event,
        Err(error) => {
            let value = value.unwrap_or(Value::Null);
            let known = Known {
                provider: NAME,
                event_type: value
                    .pointer("/meta/event_name")
                    .and_then(Value::as_str)
                    .or(event_name)
                    .unwrap_or("unknown"),
                external_id: value
                    .pointer("/data/id")
                    .and_then(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .or(v.as_i64().map(|n| n.to_string()))
                    })
                    .unwrap_or_default(),
                test: value.pointer("/data/attributes/test_mode") == Some(&Value::Bool(true)),
            };
            kept::unreadable(known, error.to_string(), body, received_at)
        }
    }
}

#[cfg(test)]
mod tests;
