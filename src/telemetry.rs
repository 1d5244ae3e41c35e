//! Logs and spans: the subscriber every command logs through, and the span each HTTP request
//! runs in. A span names what a request or a delivery is, never what it carries: no body, header,
//! query string (Gumroad's token is in `?token=`), secret or buyer email goes into a span field.

use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use axum::Router;
use tower_http::trace::TraceLayer;
use tracing::Span;

/// Logs go to stderr so stdout stays for command output and notice previews. `RUST_LOG`
/// overrides the default levels.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,serenity=warn,poise=warn,tracing=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // When stderr is gone (its reader died), the default reports that with eprintln!, which
        // panics: every request that logs would go unanswered and a signal could be lost.
        .log_internal_errors(false)
        .try_init();
}

/// Runs every request of `router` in a `request` span with its method and route, and records
/// the status and latency when it is answered. The route is the pattern that matched, or the
/// path alone: the query string never reaches a log. Nothing more is logged per request than
/// before; the span gives the lines logged while handling it their context.
pub fn trace_requests(router: Router) -> Router {
    router.layer(
        TraceLayer::new_for_http()
            .make_span_with(request_span)
            .on_request(())
            .on_response(|response: &Response, latency: Duration, span: &Span| {
                span.record("status", response.status().as_u16());
                span.record(
                    "latency_ms",
                    u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
                );
            })
            .on_body_chunk(())
            .on_eos(())
            .on_failure(()),
    )
}

fn request_span(request: &Request) -> Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        route = %route_of(request),
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

/// The route pattern that matched (`/webhook/gumroad`), else the path; never the query.
fn route_of(request: &Request) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| request.uri().path(), MatchedPath::as_str)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use axum::body::Body;
    use axum::routing::post;
    use tower::ServiceExt;
    use tracing_subscriber::fmt::format::FmtSpan;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_or(Ok(0), |mut b| {
                b.extend_from_slice(buf);
                Ok(buf.len())
            })
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_request_span_has_method_route_status_and_latency_but_no_query() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_span_events(FmtSpan::CLOSE)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let router = trace_requests(Router::new().route(
            "/webhook/gumroad",
            post(|| async {
                tracing::info!("handled");
                "ok"
            }),
        ));
        let request = Request::post("/webhook/gumroad?token=s3cret-token")
            .body(Body::empty())
            .unwrap_or_default();
        let response = router.oneshot(request).await.unwrap_or_default();
        assert_eq!(response.status(), 200);
        // The span closes with the response's body.
        drop(response);
        let text = String::from_utf8(out.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert!(
            text.contains("request{method=POST route=/webhook/gumroad}: ")
                && text.contains("handled"),
            "{text}"
        );
        assert!(
            text.contains("status=200") && text.contains("latency_ms="),
            "{text}"
        );
        assert!(
            !text.contains("s3cret") && !text.contains("token="),
            "{text}"
        );
    }
}
