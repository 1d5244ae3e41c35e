//! Stripe: JSON events signed in `Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>…]`, each
//! `v1` an HMAC-SHA256 of `"<t>.<body>"` keyed with the endpoint's signing secret. While a secret
//! is being rolled Stripe signs with both, so any one matching `v1` is enough. A signature older
//! than five minutes is refused, so a captured request cannot be replayed later (the tolerance
//! of Stripe's own libraries).
//!
//! A correctly signed event is never refused: Stripe retries a refusal for three days and then
//! gives up on the endpoint, so one the bot cannot read is kept raw instead (see [`kept`]).

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

mod payload;
mod translate;

pub use translate::{money, translate};

pub const NAME: &str = table::STRIPE.name;

/// How old a signature may be: Stripe's libraries' `DEFAULT_TOLERANCE`.
pub const TOLERANCE_SECONDS: i64 = 300;

const NOT_CONFIGURED: &str = "Stripe webhooks are not enabled: set STRIPE_WEBHOOK_SECRET to the signing secret (whsec_…) of this endpoint in Stripe (Developers > Webhooks), then restart the bot";

const SECRET_VAR: &str = table::STRIPE.secret;

/// The registry's entry for Stripe.
pub const STORE: Store = Store {
    keys: &table::STRIPE,
    build: |s| std::sync::Arc::new(Stripe::new(s.stores.get(SECRET_VAR))),
};

pub struct Stripe {
    secret: Option<Secret>,
}

impl Stripe {
    pub fn new(secret: Option<&Secret>) -> Self {
        Self {
            secret: secret.cloned(),
        }
    }
}

/// Lowercase hex HMAC-SHA256 of `"<timestamp>.<body>"`, as Stripe computes each `v1`.
pub fn signature(timestamp: i64, body: &[u8], secret: &Secret) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Stripe-Signature` value Stripe would send for `body` at `timestamp`.
pub fn signature_header(timestamp: i64, body: &[u8], secret: &Secret) -> String {
    format!("t={timestamp},v1={}", signature(timestamp, body, secret))
}

/// Checks `Stripe-Signature` against `body` as of `now`. Pure, so a test can drive the clock.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secret: &Secret,
    now: DateTime<Utc>,
) -> Result<(), ProviderError> {
    let header = header.ok_or(ProviderError::BadSignature(
        "missing `Stripe-Signature` header",
    ))?;
    let mut timestamp = None;
    let mut given = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.trim().parse::<i64>().ok(),
            Some(("v1", v)) => given.push(v.trim().to_ascii_lowercase()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return Err(ProviderError::BadSignature(
            "`Stripe-Signature` has no timestamp (t=…)",
        ));
    };
    if given.is_empty() {
        return Err(ProviderError::BadSignature(
            "`Stripe-Signature` has no v1 signature",
        ));
    }
    let expected = signature(timestamp, body, secret);
    let matches = given.iter().fold(false, |ok, v| {
        ok | bool::from(v.as_bytes().ct_eq(expected.as_bytes()))
    });
    if !matches {
        return Err(ProviderError::BadSignature(
            "signature does not match this endpoint's signing secret",
        ));
    }
    if now.timestamp().saturating_sub(timestamp) > TOLERANCE_SECONDS {
        return Err(ProviderError::BadSignature(
            "signature is more than 5 minutes old: a replayed request, or this machine's clock is wrong",
        ));
    }
    Ok(())
}

impl Provider for Stripe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display_name(&self) -> &'static str {
        "Stripe"
    }

    fn route(&self, config: &Config) -> String {
        table::STRIPE.route(config)
    }

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        table::STRIPE.settings(config)
    }

    fn missing_secret_hint(&self) -> Option<&'static str> {
        self.secret.is_none().then_some(NOT_CONFIGURED)
    }

    fn relayed_headers(&self) -> &'static [&'static str] {
        &["stripe-signature", "content-type"]
    }

    /// Kept with its `Stripe-Signature`; verified again against the time it first arrived, so
    /// the five-minute tolerance is the one it had then.
    fn quarantine(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Option<Sealed> {
        let headers = super::signature_headers(headers, &["stripe-signature"])?;
        translate(&json_object(body).ok()?, received_at).ok()?;
        Some(Sealed {
            headers,
            body: body.to_vec(),
        })
    }

    /// `received_at` is the clock the signature's age is measured against.
    fn parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError> {
        let Some(secret) = &self.secret else {
            return Err(ProviderError::NotConfigured(NOT_CONFIGURED));
        };
        let header = headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok());
        verify(header, body, secret, received_at)?;
        Ok(read(body, received_at))
    }
}

/// Translates a verified body; one that cannot be read in full is kept raw (see [`kept`]).
pub fn read(body: &[u8], received_at: DateTime<Utc>) -> Event {
    let value = json_object(body);
    let result = value
        .as_ref()
        .map_err(|e| ProviderError::Malformed(e.to_string()))
        .and_then(|v| translate(v, received_at));
    match result {
        Ok(event) => event,
        Err(error) => {
            let value = value.unwrap_or(Value::Null);
            let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or("unknown");
            let known = Known {
                provider: NAME,
                event_type: text("type"),
                external_id: value
                    .pointer("/data/object/id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                test: value.get("livemode") == Some(&Value::Bool(false)),
            };
            kept::unreadable(known, error.to_string(), body, received_at)
        }
    }
}

#[cfg(test)]
mod tests;
