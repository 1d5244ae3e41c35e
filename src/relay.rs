//! The relay to the seller's own server (`xsollaConfig.forwardUrl`).
//!
//! Xsolla sends all of a project's webhooks to one URL. A game server behind that URL answers
//! `user_validation` and grants the items bought; pointing the URL at the bot would take that away.
//! With a forward URL set, the bot stands in front of the game server instead:
//!
//! 1. the request is verified first, so a forged one never reaches the game server;
//! 2. it is passed on as received: the same body bytes and the same signature and `Content-Type`
//!    headers (`Provider::relayed_headers`), so the game server verifies it exactly as before;
//! 3. the game server's status, `Content-Type` and body go back to Xsolla unchanged, so "user
//!    exists", "invalid user" and "item granted" are the game server's to say;
//! 4. only when the game server accepted (2xx) does the bot record and announce the event. If it
//!    refused, nothing is recorded: Xsolla treats the refusal as final, or sends again;
//! 5. a game server that cannot be reached answers 502, one that does not answer in time 504:
//!    Xsolla retries a 5xx, and the bot has recorded nothing yet.
//!
//! If the bot then cannot store the event (database down), it answers 503 although the game server
//! accepted; Xsolla retries and the game server sees the notification again, which Xsolla already
//! requires it to handle (the same transaction id answered the same way).

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;

use crate::alerts::Alert;
use crate::intake::{intake, log_safe, respond, IntakeError};
use crate::providers::{Provider, ProviderError};
use crate::state::AppState;

/// How long the game server may take by default: well inside the time a webhook sender waits.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the game server gave no answer. The text names no URL (it may carry a token).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("the game server did not answer within {} ms", .0.as_millis())]
    Slow(Duration),
    #[error("the game server could not be reached: {0}")]
    Unreachable(String),
}

/// The game server's answer, passed back as it came.
struct Answer {
    status: StatusCode,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body).into_response();
        if let Some(ct) = self.content_type {
            response.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        response
    }
}

/// The forward URL and timeout of `provider`, when the seller set one.
pub fn target(state: &AppState, provider: &dyn Provider) -> Option<(String, Duration)> {
    let config = state.config();
    let settings = provider.settings(&config);
    let url = settings.forward_url.clone()?;
    let timeout = settings
        .forward_timeout_ms
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    Some((url, timeout))
}

/// Verifies, passes on, and records only what the game server accepted (see the module docs).
pub async fn handle(
    state: &AppState,
    provider: &dyn Provider,
    (url, timeout): (String, Duration),
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    // A refused request is not kept apart for replay here (see `crate::quarantine`): a replay
    // would record what the game server never accepted.
    if let Err(e) = provider.parse(headers, body, Utc::now()) {
        if matches!(e, ProviderError::BadSignature(_)) {
            state.alert(Alert::SignatureFailed {
                provider: provider.display_name(),
                kept: false,
            });
        }
        return respond(provider, Err(IntakeError::Rejected(e)));
    }
    let relayed = provider.relayed_headers();
    let answer = match forward(&url, timeout, headers, relayed, body).await {
        Ok(answer) => answer,
        Err(e) => {
            tracing::warn!(
                provider = provider.name(),
                "request not passed on, answered 5xx so the sender retries: {e}"
            );
            let status = match e {
                RelayError::Slow(_) => StatusCode::GATEWAY_TIMEOUT,
                RelayError::Unreachable(_) => StatusCode::BAD_GATEWAY,
            };
            let body =
                json!({ "error": { "code": "GAME_SERVER_UNAVAILABLE", "message": e.to_string() } });
            return (status, Json(body)).into_response();
        }
    };
    if !answer.status.is_success() {
        tracing::info!(
            provider = provider.name(),
            status = answer.status.as_u16(),
            "the game server refused the request: its answer passed back, nothing recorded"
        );
        return answer.into_response();
    }
    match intake(state, provider, headers, body).await {
        Ok(_) => answer.into_response(),
        Err(e) => respond(provider, Err(e)),
    }
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            // A redirect would send the signed body somewhere the seller did not name.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    })
}

async fn forward(
    url: &str,
    timeout: Duration,
    headers: &HeaderMap,
    relayed: &[&str],
    body: &Bytes,
) -> Result<Answer, RelayError> {
    let mut request = client().post(url).body(body.clone());
    for name in relayed {
        if let Some(value) = headers.get(*name) {
            request = request.header(*name, value.clone());
        }
    }
    let exchange = async {
        let response = request.send().await?;
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>(Answer {
            status,
            content_type,
            body,
        })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err(RelayError::Slow(timeout)),
        Ok(Err(e)) => Err(RelayError::Unreachable(log_safe(
            &e.without_url().to_string(),
        ))),
        Ok(Ok(answer)) => Ok(answer),
    }
}
