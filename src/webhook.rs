//! The HTTP routes: one per store, each handing its request to the relay or to [`intake`], and
//! `/healthz`. What happens to a request is in [`crate::intake`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::limit::RequestBodyLimitLayer;

use crate::intake::{intake, respond};
use crate::state::AppState;

/// Largest body accepted. Real provider payloads are a few KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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
