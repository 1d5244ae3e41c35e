//! The provider seam: each store is one module that verifies a request, translates it into a
//! domain [`Event`] and says how to reply. The webhook router, storage and the outbox never name a
//! provider; adding one means a module here, its keys in
//! [`crate::config::table`] and a line in [`registry::STORES`].

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::config::{Config, ProviderConfig, Secrets};
use crate::domain::Event;

pub mod gumroad;
pub mod kept;
pub mod kofi;
pub mod lemonsqueezy;
pub mod lenient;
pub mod listed;
pub mod payhip;
pub mod registry;
pub mod seal;
pub mod stripe;
pub mod xsolla;

/// Why a provider refused a request. The text is safe to show the sender: it names fields, never
/// secrets or internals.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The secret needed to verify this provider is not configured.
    #[error("{0}")]
    NotConfigured(&'static str),
    #[error("{0}")]
    BadSignature(&'static str),
    #[error("{0}")]
    Malformed(String),
}

/// How an accepted request was stored, for the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Duplicate,
    /// Answered but deliberately not kept: an unsigned test anyone could have sent.
    NotKept,
}

/// A webhook refused for its signature, in the form the quarantine keeps it (see
/// [`crate::quarantine`]): the body and only the headers that carry its signature. `Debug` shows
/// sizes only, since the body holds buyer data.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("headers", &self.headers.len())
            .field("bytes", &self.body.len())
            .finish()
    }
}

/// The headers of `names` that `headers` has, for a [`Sealed`] body; `None` unless the first
/// one (the signature) is there, since a request without it was never signed by the store.
pub fn signature_headers(headers: &HeaderMap, names: &[&str]) -> Option<Vec<(String, String)>> {
    let kept: Vec<(String, String)> = names
        .iter()
        .filter_map(|n| {
            let value = headers.get(*n)?.to_str().ok()?;
            Some(((*n).to_owned(), value.to_owned()))
        })
        .collect();
    let first = names.first()?;
    kept.iter().any(|(n, _)| n == first).then_some(kept)
}

/// A reply: status plus an optional JSON body.
pub type Reply = (StatusCode, Option<Value>);

pub trait Provider: Send + Sync + 'static {
    /// Stable name stored with each event and shown in embed footers.
    fn name(&self) -> &'static str;

    /// Which provider's code it runs: its own name, except for a store of the `stores` list
    /// (see [`listed`]), whose name is the seller's.
    fn kind(&self) -> &'static str {
        self.name()
    }

    /// A human name for docs, logs and embeds.
    fn display_name(&self) -> &'static str;

    fn route(&self, config: &Config) -> String;

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig;

    /// Verifies the raw body and translates it. Pure: no I/O, so it can be tested and fuzzed alone.
    fn parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError>;

    fn accepted(&self, stored: Stored, event: &Event) -> Reply {
        (
            StatusCode::OK,
            Some(json!({
                "status": "ok",
                "duplicate": stored == Stored::Duplicate,
                "test": event.test,
                "stored": stored != Stored::NotKept,
            })),
        )
    }

    fn rejected(&self, error: &ProviderError) -> Reply {
        let status = match error {
            ProviderError::NotConfigured(_) => StatusCode::SERVICE_UNAVAILABLE,
            ProviderError::BadSignature(_) => StatusCode::UNAUTHORIZED,
            ProviderError::Malformed(_) => StatusCode::BAD_REQUEST,
        };
        (status, Some(json!({ "error": error.to_string() })))
    }

    /// The body as it is kept in the database: exactly as received unless it carries a secret.
    /// A NUL byte, which PostgreSQL cannot store in text and no JSON or form body holds, is kept
    /// as U+FFFD, so that a verified body that is not text is still kept.
    fn stored_body(&self, body: &[u8]) -> String {
        String::from_utf8_lossy(body).replace('\0', "\u{FFFD}")
    }

    /// Whether this store's test payloads carry a signature that was verified. Payhip's test
    /// button sends none, so anyone could send its tests: those are counted, not stored.
    fn signs_tests(&self) -> bool {
        true
    }

    /// The request headers the relay (`forwardUrl`) passes on with the body: those that carry
    /// the store's signature, so the other server verifies the request exactly as the bot did.
    fn relayed_headers(&self) -> &'static [&'static str] {
        &["authorization", "content-type"]
    }

    /// A request whose signature did not verify, in the form the quarantine keeps, when its body
    /// is this store's event all the same (it translates): a seller who changed the key in the
    /// store and not in the bot loses no sale. `None`: not worth keeping. Pure; never verifies,
    /// and its answer is used for nothing but keeping the body apart. A value that would let a
    /// reader forge webhooks (a token, Payhip's signature) is kept only sealed
    /// ([`seal`]), so a request sent with the new secret does not put it in the database.
    fn quarantine(
        &self,
        _headers: &HeaderMap,
        _body: &[u8],
        _received_at: DateTime<Utc>,
    ) -> Option<Sealed> {
        None
    }

    /// A kept body as it is verified again, with the current secret (the inverse of whatever
    /// [`Provider::quarantine`] hid). Pure.
    fn unseal(&self, sealed: Sealed) -> Sealed {
        sealed
    }

    /// Logged once at start-up when the provider cannot verify anything yet.
    fn missing_secret_hint(&self) -> Option<&'static str>;
}

/// Every provider this build knows (the stores of [`registry::STORES`]), configured from the
/// secrets at hand.
pub fn registry(secrets: &Secrets) -> Vec<std::sync::Arc<dyn Provider>> {
    registry::providers(secrets)
}

/// Every store `config` sets up: the single-store sections (each named after its provider)
/// and the stores of its `stores` list, each with its own secret.
pub fn stores(config: &Config, secrets: &Secrets) -> Vec<std::sync::Arc<dyn Provider>> {
    registry::for_config(config, secrets)
}

/// Parses the body as a JSON object, the shape every provider sends.
pub fn json_object(body: &[u8]) -> Result<Value, ProviderError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ProviderError::Malformed(format!("body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ProviderError::Malformed(
            "body must be a JSON object".to_owned(),
        ));
    }
    Ok(value)
}

/// Lowercase hex SHA-256, the building block of idempotency keys for bodies without an id.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The request's query string, as the router hands it to `parse`: Gumroad's pings are
/// authenticated by a token in their URL only. Set by the router alone; a sender's own header of
/// this name is dropped.
pub const QUERY_HEADER: &str = "x-integrations-bot-query";

/// `headers` with the query string under [`QUERY_HEADER`] (and no header of that name sent by
/// the client).
pub fn with_query(mut headers: HeaderMap, query: Option<&str>) -> HeaderMap {
    headers.remove(QUERY_HEADER);
    if let Some(value) = query.and_then(|q| HeaderValue::from_str(q).ok()) {
        headers.insert(QUERY_HEADER, value);
    }
    headers
}

/// The first value of the query parameter `name`, decoded.
pub fn query_param(headers: &HeaderMap, name: &str) -> Option<String> {
    let query = headers.get(QUERY_HEADER)?.to_str().ok()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
