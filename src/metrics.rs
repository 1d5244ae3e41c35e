//! `/metrics` in Prometheus text format. Sales, refunds and queue sizes are business figures, so
//! the endpoint is not on the public port unless a token guards it: it is served on
//! `webhookConfig.metricsAddr` (meant to be a loopback or private address), and on the public port
//! only when `METRICS_TOKEN` is set. With a token set, every `/metrics` asks for it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;
use crate::serve;
use crate::state::AppState;

#[derive(Clone)]
struct Metrics {
    app: AppState,
    /// The public listener's connection counters.
    http: Arc<serve::Stats>,
    token: Option<Secret>,
}

/// A router with `/metrics` only, to serve on its own address or to merge into the public one.
pub fn router(app: AppState, http: Arc<serve::Stats>) -> Router {
    let token = app.settings().secrets.metrics_token.clone();
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(Metrics { app, http, token })
}

/// Whether the request carries `Authorization: Bearer <token>`. Both sides are hashed first so
/// that the comparison takes the same time whatever the length or content of a guess.
fn authorized(expected: &Secret, headers: &HeaderMap) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let given = Sha256::digest(given.trim().as_bytes());
    let expected = Sha256::digest(expected.expose().as_bytes());
    given.ct_eq(&expected).into()
}

async fn metrics(State(m): State<Metrics>, headers: HeaderMap) -> Response {
    if let Some(token) = &m.token {
        if !authorized(token, &headers) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "a valid METRICS_TOKEN is required\n",
            )
                .into_response();
        }
    }
    let state = &m.app;
    let counts = match state.store().metric_counts().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("metrics unavailable: {e}");
            return (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response();
        }
    };
    let outbox = counts.outbox;
    let mut body = format!(
        "# TYPE integrations_bot_events gauge\nintegrations_bot_events {}\n\
         # TYPE integrations_bot_sales gauge\nintegrations_bot_sales {}\n\
         # TYPE integrations_bot_refunds gauge\nintegrations_bot_refunds {}\n\
         # TYPE integrations_bot_notices gauge\n\
         integrations_bot_notices{{state=\"pending\"}} {}\n\
         integrations_bot_notices{{state=\"delivered\"}} {}\n\
         integrations_bot_notices{{state=\"preview\"}} {}\n\
         integrations_bot_notices{{state=\"dead\"}} {}\n\
         # TYPE integrations_bot_uptime_seconds gauge\nintegrations_bot_uptime_seconds {}\n",
        counts.events,
        counts.sales,
        counts.refunds,
        outbox.pending,
        outbox.delivered,
        outbox.preview,
        outbox.dead,
        state.uptime().as_secs()
    );
    body.push_str(&format!(
        "# TYPE integrations_bot_http_connections gauge\nintegrations_bot_http_connections {}\n\
         # TYPE integrations_bot_http_connections_evicted_total counter\n\
         integrations_bot_http_connections_evicted_total {}\n\
         # TYPE integrations_bot_http_connections_timed_out_total counter\n\
         integrations_bot_http_connections_timed_out_total {}\n",
        m.http.open(),
        m.http.evicted(),
        m.http.timed_out()
    ));
    body.push_str(&format!(
        "# TYPE integrations_bot_unsigned_tests_total counter\n\
         integrations_bot_unsigned_tests_total {}\n\
         # TYPE integrations_bot_intake_failing gauge\nintegrations_bot_intake_failing {}\n\
         # TYPE integrations_bot_unreadable_total counter\nintegrations_bot_unreadable_total {}\n",
        state.unsigned_tests().received(),
        u8::from(state.writer().is_failing()),
        state.unreadable()
    ));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_is_accepted() {
        let token = Secret::new("s3cret-metrics-token");
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            authorized(&token, &h)
        };
        assert!(with("Bearer s3cret-metrics-token"));
        assert!(!with("Bearer s3cret-metrics-toke"));
        assert!(!with("Bearer s3cret-metrics-token2"));
        assert!(!with("s3cret-metrics-token"));
        assert!(!with("Basic s3cret-metrics-token"));
        assert!(!authorized(&token, &HeaderMap::new()));
    }
}
