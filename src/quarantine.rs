//! Webhooks refused for their signature that are a store's event all the same, kept apart: a
//! seller who changed the key in the store and forgot the bot loses no sale. Kept bodies are
//! never counted or announced; [`replay`] runs each through the one intake path again with the
//! current secrets, so a sale that now verifies is stored and announced exactly once (its
//! idempotency key), however often replay runs, and is then forgotten.
//!
//! Bounded by `webhookConfig.rejectedBodiesKept` and `rejectedBytesKept` (the oldest go first):
//! anyone can send bodies that look like a sale, so the quarantine must not grow without end.
//! A kept body and its headers are never logged.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, Utc};

use crate::db::{DbError, RejectedBody};
use crate::intake::{self, IntakeError};
use crate::providers::{Provider, Sealed, Stored};
use crate::state::AppState;

/// Keeps a refused request when its provider says it is worth keeping; true when kept. Never
/// fails the request: a database that cannot keep it is logged.
pub async fn keep(
    state: &AppState,
    provider: &dyn Provider,
    headers: &HeaderMap,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> bool {
    let limits = &state.config().webhook_config;
    let (max_bodies, max_bytes) = (limits.rejected_bodies_kept, limits.rejected_bytes_kept);
    if max_bodies == 0 || body.len() > max_bytes {
        return false;
    }
    let Some(sealed) = provider.quarantine(headers, body, received_at) else {
        return false;
    };
    if sealed.body.len() > max_bytes {
        return false;
    }
    let row = RejectedBody {
        id: 0,
        provider: provider.name().to_owned(),
        headers: serde_json::to_string(&sealed.headers).unwrap_or_else(|_| "[]".to_owned()),
        body: sealed.body,
        received_at: received_at.timestamp_millis(),
    };
    match state
        .store()
        .keep_rejected(&row, max_bodies, max_bytes)
        .await
    {
        Ok(()) => {
            tracing::warn!(
                provider = provider.name(),
                "a webhook that looks like a real {} event failed the signature check: kept apart, not counted; if the key changed, set the new one and run `integrations-bot replay-rejected`",
                provider.display_name()
            );
            true
        }
        Err(e) => {
            tracing::warn!(
                provider = provider.name(),
                "a refused webhook could not be kept apart: {e}"
            );
            false
        }
    }
}

/// What a replay did, for the CLI and the slash command.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Verified with the current secret and stored now (announced as any webhook).
    pub taken_in: usize,
    /// Verified, and already stored (a replay before, or the store's own retry).
    pub already_stored: usize,
    /// Still refused; kept for a later replay.
    pub still_refused: usize,
}

impl Replayed {
    /// One line for the seller.
    pub fn summary(&self) -> String {
        format!(
            "{} taken in, {} already stored, {} still refused (kept: check the store's secret, then run this again)",
            self.taken_in, self.already_stored, self.still_refused
        )
    }
}

/// Verifies every kept body again with the current secrets and takes in those that pass,
/// through [`intake`]; a body that verifies is forgotten, one that does not is kept. Stops at
/// the first body the database cannot store (the rest are kept).
pub async fn replay(state: &AppState) -> Result<Replayed, DbError> {
    let mut done = Replayed::default();
    for row in state.store().rejected_bodies().await? {
        let Some(provider) = state
            .providers()
            .iter()
            .find(|p| p.name() == row.provider)
            .cloned()
        else {
            done.still_refused += 1;
            continue;
        };
        let pairs: Vec<(String, String)> = serde_json::from_str(&row.headers).unwrap_or_default();
        let sealed = provider.unseal(Sealed {
            headers: pairs,
            body: row.body,
        });
        let headers = header_map(&sealed.headers);
        let received_at = DateTime::from_timestamp_millis(row.received_at).unwrap_or_default();
        match intake::replay(
            state,
            provider.as_ref(),
            &headers,
            &sealed.body,
            received_at,
        )
        .await
        {
            Ok((Stored::New, _)) => done.taken_in += 1,
            Ok((Stored::Duplicate | Stored::NotKept, _)) => done.already_stored += 1,
            Err(IntakeError::Rejected(_)) => {
                done.still_refused += 1;
                continue;
            }
            Err(IntakeError::Storage(e)) => return Err(e),
        }
        state.store().forget_rejected(row.id).await?;
    }
    Ok(done)
}

fn header_map(pairs: &[(String, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            map.append(n, v);
        }
    }
    map
}
