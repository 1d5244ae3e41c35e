//! The HTTP intake: verify, translate, commit, then answer. Nothing here talks to Discord.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use crate::bounds;
use crate::db::{DbError, Inserted, NewEvent};
use crate::outbox;
use crate::providers::{Provider, ProviderError, Reply, Stored};
use crate::state::AppState;

/// Largest body accepted. Real provider payloads are a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why an intake request did not end in a stored event.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Rejected(#[from] ProviderError),
    #[error("could not store the event: {0}")]
    Storage(#[from] DbError),
}

pub fn router(state: AppState) -> Router {
    // `/metrics` is not here: it shows business figures, see [`crate::metrics`].
    let mut router = Router::new().route("/healthz", get(healthz));
    let config = state.config();
    for provider in state.providers() {
        let path = provider.route(&config);
        let p = Arc::clone(provider);
        let live = format!(
            "{} webhook endpoint is live. Send POST requests here.\n",
            provider.display_name()
        );
        router = router.route(
            &path,
            post(
                move |State(state): State<AppState>,
                      RawQuery(query): RawQuery,
                      headers: HeaderMap,
                      body: Bytes| async move {
                    let headers = crate::providers::with_query(headers, query.as_deref());
                    if let Some(target) = crate::relay::target(&state, p.as_ref()) {
                        return crate::relay::handle(&state, p.as_ref(), target, &headers, &body)
                            .await;
                    }
                    let result = intake(&state, p.as_ref(), &headers, &body).await;
                    respond(p.as_ref(), result)
                },
            )
            .get(move || async move { live }),
        );
    }
    router
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .with_state(state)
}

/// 503 while intake cannot commit. A read passes even on a full disk, so the writer's own last
/// outcome decides: a failed write turns this to 503 until a webhook is stored again.
async fn healthz(State(state): State<AppState>) -> Response {
    if state.writer().is_failing() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database refused the last write (disk full?)\n",
        )
            .into_response();
    }
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!("health check failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// The whole intake path, also used by `/test` so a sample goes exactly where a real one would.
pub async fn intake(
    state: &AppState,
    provider: &dyn Provider,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Stored, crate::domain::Event), IntakeError> {
    let received_at = Utc::now();
    let mut event = provider.parse(headers, body, received_at)?;
    bounds::clean(&mut event);
    let config = state.config();
    let settings = provider.settings(&config);
    if event.test && !event.test_signed && !provider.signs_tests() {
        let gate = state.unsigned_tests();
        let now = std::time::Instant::now();
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
    let stored = match state.writer().insert(new).await? {
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
