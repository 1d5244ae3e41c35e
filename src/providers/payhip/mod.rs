//! Payhip: JSON bodies with a top-level `type` and a `signature` that is the SHA-256 of the seller's
//! API key. The signature is the same on every request of a store, so it proves only knowledge of
//! the key; idempotency keys guard against replays.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use super::lenient;
use super::{json_object, sha256_hex, Provider, ProviderError, Sealed};
use crate::config::{Config, ProviderConfig, Secret};
use crate::domain::Event;

mod sample;
mod seal;
mod translate;

pub use sample::{sample, SAMPLE_KINDS};
pub use translate::translate;
use translate::{other_event, Envelope};

pub const NAME: &str = crate::config::table::PAYHIP.name;

pub struct Payhip {
    /// Lowercase hex SHA-256 of the API key, computed once.
    expected_signature: Option<Vec<u8>>,
}

impl Payhip {
    pub fn new(api_key: Option<&Secret>) -> Self {
        Self {
            expected_signature: api_key.map(|k| sha256_hex(k.expose().as_bytes()).into_bytes()),
        }
    }
}

impl Provider for Payhip {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display_name(&self) -> &'static str {
        "Payhip"
    }

    fn route(&self, config: &Config) -> String {
        config.webhook_config.webhook_path.clone()
    }

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        &config.payhip_config
    }

    /// The signature is a hash of the API key that never changes: whoever reads it from the
    /// database or a backup could forge webhooks, so it is not kept.
    fn stored_body(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        match self
            .expected_signature
            .as_deref()
            .and_then(|s| std::str::from_utf8(s).ok())
        {
            Some(signature) => text.replace(signature, "redacted"),
            None => text.into_owned(),
        }
    }

    fn signs_tests(&self) -> bool {
        false
    }

    fn missing_secret_hint(&self) -> Option<&'static str> {
        self.expected_signature.is_none().then_some(NOT_CONFIGURED)
    }

    /// Kept with its signature sealed (see [`seal`]): no header carries anything.
    fn quarantine(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Option<Sealed> {
        Some(Sealed {
            headers: Vec::new(),
            body: seal::seal(body, received_at)?,
        })
    }

    fn unseal(&self, sealed: Sealed) -> Sealed {
        match self
            .expected_signature
            .as_deref()
            .and_then(|s| std::str::from_utf8(s).ok())
        {
            Some(expected) => Sealed {
                body: seal::unseal(&sealed.body, expected),
                ..sealed
            },
            None => sealed,
        }
    }

    fn parse(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError> {
        let Some(expected) = &self.expected_signature else {
            return Err(ProviderError::NotConfigured(NOT_CONFIGURED));
        };
        let value = json_object(body)?;
        let envelope: Envelope = lenient::parse(&value)?;
        let signature = envelope
            .signature
            .ok_or(ProviderError::BadSignature("missing `signature`"))?;
        let unsigned_test = signature.starts_with("test");
        if !unsigned_test && !bool::from(signature.as_bytes().ct_eq(expected)) {
            return Err(ProviderError::BadSignature(
                "`signature` does not match this store's API key",
            ));
        }
        let signed_test = !unsigned_test
            && value
                .get(SIMULATED_MARKER)
                .and_then(serde_json::Value::as_bool)
                == Some(true);
        let test = unsigned_test || signed_test;
        // Payhip's first webhook format had one event, the sale, and no `type`.
        let kind = envelope.kind.unwrap_or_else(|| LEGACY_KIND.to_owned());
        let mut event = match translate(&kind, &value, body, received_at) {
            Ok(event) => event,
            // Payhip's test button may leave out fields a real sale has; a test is still a test.
            Err(_) if test => other_event(&kind, &value, body, received_at),
            Err(e) => return Err(e),
        };
        if test {
            event.test = true;
            event.test_signed = signed_test;
            // Test payloads reuse ids; each press of the button is its own event.
            event.idempotency_key = format!(
                "test:{}:{}",
                event.idempotency_key,
                received_at.timestamp_nanos_opt().unwrap_or_default()
            );
        }
        Ok(event)
    }
}

/// What a body without `type` is: Payhip's older webhooks announced sales only and had no `type`.
pub const LEGACY_KIND: &str = "paid";

/// Set by `simulate` and `/test` on a properly signed payload: a test only the seller can send.
pub const SIMULATED_MARKER: &str = "integrations_bot_test";

const NOT_CONFIGURED: &str = "Payhip webhooks are not enabled: set PAYHIP_API_KEY to the API key shown in Payhip under Settings > Developer, then restart the bot";

#[cfg(test)]
mod tests;
