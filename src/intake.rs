//! The one intake path: verify, translate, route, commit, then answer. The HTTP routes
//! ([`crate::webhook`]), the relay and `/test` all go through [`intake`], so a sample goes exactly
//! where a real webhook would. A body refused for its signature may be kept apart
//! ([`crate::quarantine`]) and [`replay`] takes it in later. Nothing here waits on Discord: an
//! alert ([`crate::alerts`]) is posted in a task of its own.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::alerts::Alert;
use crate::bounds;
use crate::db::{DbError, Inserted, NewEvent};
use crate::outbox;
use crate::providers::{Provider, ProviderError, Reply, Stored};
use crate::state::AppState;

/// Why an intake request did not end in a stored event.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Rejected(#[from] ProviderError),
    #[error("could not store the event: {0}")]
    Storage(#[from] DbError),
}

/// The whole intake path, for every entry point.
#[tracing::instrument(name = "intake", skip_all, fields(provider = provider.name()))]
pub async fn intake(
    state: &AppState,
    provider: &dyn Provider,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Stored, crate::domain::Event), IntakeError> {
    let received_at = state.clock().now();
    let event = match provider.parse(headers, body, received_at) {
        Ok(event) => event,
        Err(e @ ProviderError::BadSignature(_)) => {
            let kept = crate::quarantine::keep(state, provider, headers, body, received_at).await;
            state.alert(Alert::SignatureFailed {
                provider: provider.display_name(),
                kept,
            });
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let taken = take_in(state, provider, body, received_at, event).await;
    // An unsigned test is anyone's to send: it does not end a silence.
    if matches!(taken, Ok((Stored::New | Stored::Duplicate, _))) {
        state.alerts().webhook_arrived(state.clock().instant());
    }
    taken
}

/// The intake path for a body kept by [`crate::quarantine`], verified again now with the
/// current secrets as of when it first arrived (`received_at`, which Stripe's five-minute
/// tolerance is measured against). A body refused again is not kept twice.
pub async fn replay(
    state: &AppState,
    provider: &dyn Provider,
    headers: &HeaderMap,
    body: &[u8],
    received_at: chrono::DateTime<chrono::Utc>,
) -> Result<(Stored, crate::domain::Event), IntakeError> {
    let event = provider.parse(headers, body, received_at)?;
    take_in(state, provider, body, received_at, event).await
}

async fn take_in(
    state: &AppState,
    provider: &dyn Provider,
    body: &[u8],
    received_at: chrono::DateTime<chrono::Utc>,
    mut event: crate::domain::Event,
) -> Result<(Stored, crate::domain::Event), IntakeError> {
    bounds::clean(&mut event);
    let config = state.config();
    let settings = provider.settings(&config);
    if event.test && !event.test_signed && !provider.signs_tests() {
        let gate = state.unsigned_tests();
        let now = state.clock().instant();
        if !gate.arrive(settings.announce_tests, now) {
            if gate.may_log(now) {
                let why = if settings.announce_tests {
                    "one was already shown in the last minute"
                } else {
                    "to see one in Discord (one a minute at most), set announceTests to true in this store's config section, or run `integrations-bot simulate paid` for a signed test"
                };
                tracing::info!(
                    provider = provider.name(),
                    received = gate.received(),
                    "unsigned test webhook answered but not stored or announced: {why} (this line: once a minute at most)"
                );
            }
            return Ok((Stored::NotKept, event));
        }
    }
    let not_counted = bounds::out_of_range(&event, received_at);
    let destinations = match &not_counted {
        Some(_) => Vec::new(),
        None => outbox::route(&config, settings, &event),
    };
    let new = NewEvent {
        raw: provider.stored_body(body),
        received_at,
        destinations,
        not_counted,
        event,
    };
    let event = new.event.clone();
    let not_counted = new.not_counted.clone();
    let inserted = state.writer().insert(new).await.inspect_err(|e| {
        // A writer gone is the app stopping, not the database refusing.
        if !e.is_input() && !matches!(e, DbError::WriterGone) {
            state.alert(Alert::DatabaseRefused);
        }
    })?;
    let stored = match inserted {
        Inserted::New { .. } => Stored::New,
        Inserted::Duplicate => Stored::Duplicate,
    };
    if stored == Stored::New && matches!(event.detail, crate::domain::Detail::Unreadable(_)) {
        state.count_unreadable();
    }
    if let Some(reason) = not_counted {
        tracing::warn!(
            provider = provider.name(),
            event_type = %log_safe(&event.event_type),
            id = %log_safe(&event.external_id),
            "signed webhook stored but not counted or announced: {reason}"
        );
    }
    tracing::info!(
        provider = provider.name(),
        event_type = %log_safe(&event.event_type),
        id = %log_safe(&event.external_id),
        amount = %event.amount().map(|m| log_safe(&m.to_string())).unwrap_or_default(),
        test = event.test,
        duplicate = stored == Stored::Duplicate,
        "webhook accepted"
    );
    tracing::debug!(email = ?event.customer.email, "buyer");
    Ok((stored, event))
}

/// Text from a request, made safe for a log line: control characters (line breaks, ANSI escapes)
/// are shown escaped, so a sender cannot forge or restyle lines.
pub fn log_safe(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The HTTP answer to an intake: the provider's own reply, or 503 while nothing can be stored.
pub(crate) fn respond(
    provider: &dyn Provider,
    result: Result<(Stored, crate::domain::Event), IntakeError>,
) -> Response {
    let reply: Reply = match result {
        Ok((stored, event)) => provider.accepted(stored, &event),
        Err(IntakeError::Rejected(e)) => {
            tracing::warn!(
                provider = provider.name(),
                "webhook rejected: {}",
                log_safe(&e.to_string())
            );
            provider.rejected(&e)
        }
        Err(IntakeError::Storage(e)) => {
            // The sender retries on a 5xx; the detail stays in our log.
            tracing::error!(provider = provider.name(), "webhook not stored: {e}");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(json!({ "error": "the event could not be stored right now; please retry" })),
            )
        }
    };
    match reply {
        (status, Some(body)) => (status, Json(body)).into_response(),
        (status, None) => status.into_response(),
    }
}
