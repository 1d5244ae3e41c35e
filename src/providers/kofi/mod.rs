//! Ko-fi: a form post whose field `data` holds the payment as JSON, with the account's
//! `verification_token` inside it (Ko-fi signs nothing). A post is accepted only when that token
//! matches `KOFI_VERIFICATION_TOKEN`, compared in constant time; it is never kept in the stored
//! body. Ko-fi retries a post until it gets a 200, with the same `message_id`.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde_json::Value;
use subtle::ConstantTimeEq;

use super::kept::{self, Known};
use super::registry::Store;
use super::{seal, Provider, ProviderError, Sealed};
use crate::config::{table, Config, ProviderConfig, Secret};
use crate::domain::Event;

mod translate;

pub use translate::translate;

pub const NAME: &str = table::KOFI.name;

const SECRET_VAR: &str = table::KOFI.secret;

const NOT_CONFIGURED: &str = "Ko-fi webhooks are not enabled: set KOFI_VERIFICATION_TOKEN to the verification token shown in Ko-fi (More > API > Webhooks > Advanced), then restart the bot";

/// The registry's entry for Ko-fi.
pub const STORE: Store = Store {
    keys: &table::KOFI,
    build: |s| std::sync::Arc::new(Kofi::new(s.stores.get(SECRET_VAR))),
};

pub struct Kofi {
    token: Option<Secret>,
}

impl Kofi {
    pub fn new(token: Option<&Secret>) -> Self {
        Self {
            token: token.cloned(),
        }
    }
}

/// The payment JSON of a post: the form field `data`, or the body itself when it is JSON.
pub fn payment(body: &[u8]) -> Result<Value, ProviderError> {
    let data = form_urlencoded::parse(body)
        .find(|(k, _)| k == "data")
        .map(|(_, v)| v.into_owned());
    let text = match data {
        Some(text) => text.into_bytes(),
        None if body.trim_ascii_start().starts_with(b"{") => body.to_vec(),
        None => {
            return Err(ProviderError::Malformed(
                "missing form field `data`".to_owned(),
            ))
        }
    };
    super::json_object(&text)
}

impl Provider for Kofi {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display_name(&self) -> &'static str {
        "Ko-fi"
    }

    fn route(&self, config: &Config) -> String {
        table::KOFI.route(config)
    }

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        table::KOFI.settings(config)
    }

    fn missing_secret_hint(&self) -> Option<&'static str> {
        self.token.is_none().then_some(NOT_CONFIGURED)
    }

    fn relayed_headers(&self) -> &'static [&'static str] {
        &["content-type"]
    }

    /// The verification token is a secret: it is replaced, however the form encoded it.
    fn stored_body(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body).replace('\0', "\u{FFFD}");
        match &self.token {
            Some(token) => {
                let encoded: String =
                    form_urlencoded::byte_serialize(token.expose().as_bytes()).collect();
                text.replace(&encoded, "redacted")
                    .replace(token.expose(), "redacted")
            }
            None => text,
        }
    }

    /// Kept with its `verification_token` sealed ([`seal`]): a post with the account's new
    /// token would otherwise put that token in the database.
    fn quarantine(
        &self,
        _headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Option<Sealed> {
        let token_of = |v: &Value| {
            v.get("verification_token")
                .and_then(Value::as_str)
                .map(|t| t.trim().to_owned())
        };
        let value = payment(body).ok()?;
        let given = token_of(&value)?;
        translate(&value, received_at).ok()?;
        let sealed = seal::seal(std::str::from_utf8(body).ok()?, &given)?;
        // A token written escaped is not found as text: such a post is not kept.
        let check = token_of(&payment(sealed.as_bytes()).ok()?)?;
        (check == seal::sealed(&given)).then(|| Sealed {
            headers: Vec::new(),
            body: sealed.into_bytes(),
        })
    }

    fn unseal(&self, sealed: Sealed) -> Sealed {
        match &self.token {
            Some(token) => Sealed {
                body: seal::unseal_bytes(&sealed.body, token.expose().trim()),
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
        let Some(token) = &self.token else {
            return Err(ProviderError::NotConfigured(NOT_CONFIGURED));
        };
        let value = payment(body)?;
        let given = value
            .get("verification_token")
            .and_then(Value::as_str)
            .ok_or(ProviderError::BadSignature("missing `verification_token`"))?;
        if !bool::from(given.trim().as_bytes().ct_eq(token.expose().as_bytes())) {
            return Err(ProviderError::BadSignature(
                "`verification_token` does not match KOFI_VERIFICATION_TOKEN",
            ));
        }
        Ok(match translate(&value, received_at) {
            Ok(event) => event,
            Err(e) => {
                let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or_default();
                let known = Known {
                    provider: NAME,
                    event_type: text("type"),
                    external_id: text("kofi_transaction_id").to_owned(),
                    test: false,
                };
                kept::unreadable(known, e.to_string(), body, received_at)
            }
        })
    }
}

#[cfg(test)]
mod tests;
