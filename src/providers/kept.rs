//! A verified webhook the bot cannot read in full is kept, not refused. It came from the store
//! (its signature or token matched), so refusing protects nothing, and a refusal only makes the
//! store retry the same body for days, or give up on the endpoint. It is stored raw with the
//! reason, acknowledged, never counted or announced, and an error is logged with a fixed text
//! sellers can alert on.

use chrono::{DateTime, Utc};

use super::sha256_hex;
use crate::domain::{Customer, Detail, Event, EventKind, Unreadable};

/// The log line for a verified webhook kept raw. Stable, so sellers can alert on it.
pub const UNREADABLE_LOG: &str =
    "verified webhook could not be read in full: stored raw and acknowledged, not counted";

/// What is known of an unreadable body, for the record.
pub struct Known<'a> {
    pub provider: &'static str,
    pub event_type: &'a str,
    pub external_id: String,
    pub test: bool,
}

/// The event that keeps `body` raw, with `reason` (which names a field, never a secret).
pub fn unreadable(known: Known<'_>, reason: String, body: &[u8], at: DateTime<Utc>) -> Event {
    tracing::error!(
        provider = known.provider,
        event_type = ?known.event_type,
        reason = ?reason,
        "{UNREADABLE_LOG}"
    );
    Event {
        provider: known.provider.to_owned(),
        event_type: known.event_type.to_owned(),
        kind: EventKind::Other,
        idempotency_key: format!("unreadable:{}:{}", known.event_type, sha256_hex(body)),
        external_id: known.external_id,
        occurred_at: at,
        test: known.test,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail: Detail::Unreadable(Unreadable { reason }),
    }
}
