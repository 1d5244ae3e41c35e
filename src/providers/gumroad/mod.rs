//! Gumroad: pings posted form-encoded (or as JSON), which Gumroad does not sign. A ping is
//! accepted only when its URL carries the seller's own secret token (`?token=…`, compared in
//! constant time) and, when `GUMROAD_SELLER_ID` is set, when the `seller_id` it names (if any) is
//! that one. The token is in the URL, never in the body, so it is never stored.
//!
//! Gumroad retries a ping only after a 5xx, and a few times at most; a ping whose token matched
//! but that cannot be read in full is kept raw rather than refused (see [`kept`]).

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use super::kept::{self, Known};
use super::registry::Store;
use super::{query_param, seal, Provider, ProviderError, Sealed, QUERY_HEADER};
use crate::config::{table, Config, ProviderConfig, Secret};
use crate::domain::Event;

mod fields;
mod translate;

pub const NAME: &str = table::GUMROAD.name;

const SECRET_VAR: &str = table::GUMROAD.secret;
const SELLER_VAR: &str = table::GUMROAD.also[0];

const NOT_CONFIGURED: &str = "Gumroad pings are not enabled: set GUMROAD_WEBHOOK_TOKEN to a long random secret of your own, add ?token=<that secret> to the ping URL you give Gumroad, then restart the bot";

/// The registry's entry for Gumroad.
pub const STORE: Store = Store {
    keys: &table::GUMROAD,
    build: |s| {
        std::sync::Arc::new(Gumroad::new(
            s.stores.get(SECRET_VAR),
            s.stores.get(SELLER_VAR),
        ))
    },
};

pub struct Gumroad {
    token: Option<Secret>,
    seller_id: Option<Secret>,
}

impl Gumroad {
    pub fn new(token: Option<&Secret>, seller_id: Option<&Secret>) -> Self {
        Self {
            token: token.cloned(),
            seller_id: seller_id.cloned(),
        }
    }

    fn verify(&self, headers: &HeaderMap) -> Result<(), ProviderError> {
        let Some(token) = &self.token else {
            return Err(ProviderError::NotConfigured(NOT_CONFIGURED));
        };
        let given = query_param(headers, "token").ok_or(ProviderError::BadSignature(
            "missing `?token=` in the ping URL",
        ))?;
        if bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
            Ok(())
        } else {
            Err(ProviderError::BadSignature(
                "the ping URL's token does not match GUMROAD_WEBHOOK_TOKEN",
            ))
        }
    }
}

impl Provider for Gumroad {
    fn name(&self) -> &'static str {
        NAME
    }

    fn display_name(&self) -> &'static str {
        "Gumroad"
    }

    fn route(&self, config: &Config) -> String {
        table::GUMROAD.route(config)
    }

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        table::GUMROAD.settings(config)
    }

    fn missing_secret_hint(&self) -> Option<&'static str> {
        self.token.is_none().then_some(NOT_CONFIGURED)
    }

    /// The token is the bot's own; the other server gets the ping without it.
    fn relayed_headers(&self) -> &'static [&'static str] {
        &["content-type"]
    }

    /// Kept with its token sealed ([`seal`]) and nothing else of the URL: the token is the
    /// seller's secret, and a ping sent with a new one would otherwise put it in the database.
    fn quarantine(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Option<Sealed> {
        let given = query_param(headers, "token")?;
        let content_type = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let json = content_type.is_some_and(|ct| ct.contains("json"));
        let fields = fields::Fields::parse(body, json).ok()?;
        translate::translate(&fields, received_at).ok()?;
        let mut kept = vec![(
            QUERY_HEADER.to_owned(),
            format!("token={}", seal::seal(&given, &given)?),
        )];
        if let Some(ct) = content_type {
            kept.push(("content-type".to_owned(), ct.to_owned()));
        }
        Some(Sealed {
            headers: kept,
            body: body.to_vec(),
        })
    }

    fn unseal(&self, sealed: Sealed) -> Sealed {
        let Some(token) = &self.token else {
            return sealed;
        };
        let encoded: String = form_urlencoded::byte_serialize(token.expose().as_bytes()).collect();
        let headers = sealed
            .headers
            .into_iter()
            .map(|(name, value)| {
                let value = if name == QUERY_HEADER {
                    value.replace(&seal::sealed(token.expose()), &encoded)
                } else {
                    value
                };
                (name, value)
            })
            .collect();
        Sealed { headers, ..sealed }
    }

    fn parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError> {
        self.verify(headers)?;
        let json = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.contains("json"));
        let fields = match fields::Fields::parse(body, json) {
            Ok(fields) => fields,
            Err(e) => return Ok(unreadable("unknown", String::new(), e, body, received_at)),
        };
        if let (Some(own), Some(named)) = (&self.seller_id, fields.get("seller_id")) {
            if !bool::from(named.trim().as_bytes().ct_eq(own.expose().as_bytes())) {
                return Err(ProviderError::BadSignature(
                    "the ping's seller_id is not GUMROAD_SELLER_ID",
                ));
            }
        }
        Ok(match translate::translate(&fields, received_at) {
            Ok(event) => event,
            Err(e) => {
                let kind = fields
                    .text("resource_name")
                    .unwrap_or_else(|| "sale".into());
                let id = fields
                    .text("sale_id")
                    .or_else(|| fields.text("subscription_id"))
                    .unwrap_or_default();
                let mut kept = unreadable(&kind, id, e, body, received_at);
                kept.test = fields.flag("test");
                kept
            }
        })
    }
}

fn unreadable(
    kind: &str,
    external_id: String,
    error: ProviderError,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Event {
    let known = Known {
        provider: NAME,
        event_type: kind,
        external_id,
        test: false,
    };
    kept::unreadable(known, error.to_string(), body, received_at)
}

#[cfg(test)]
mod tests;
