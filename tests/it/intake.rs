//! The Payhip endpoint as a store (or an attacker) sees it: every answer, and what gets stored.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use crate::support::*;

const PATH: &str = "/webhook/payhip";

#[tokio::test]
async fn each_signed_event_type_is_stored_once_and_retries_add_nothing() {
    let app = TestApp::start(|c| c.discord_config.sales_channel_id = Some(42)).await;
    for name in PAYHIP_EVENTS {
        let (status, body) = app.post(PATH, payhip_signed(name)).await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(reply["duplicate"], false, "{name}");
    }
    let first = app.store().table_counts().await.unwrap();
    assert_eq!(
        (
            first.events,
            first.sales,
            first.refunds,
            first.subscriptions
        ),
        (4, 1, 1, 1)
    );

    for name in PAYHIP_EVENTS {
        let (status, body) = app.post(PATH, payhip_signed(name)).await;
        assert_eq!(status, StatusCode::OK, "{name} again: {body}");
        let reply: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(reply["duplicate"], true, "{name} again");
    }
    assert_eq!(
        app.store().table_counts().await.unwrap(),
        first,
        "a retry stores nothing new"
    );
    let notices = app.store().outbox_rows().await.unwrap();
    assert_eq!(
        notices.len(),
        1,
        "one sale notice for the one sales channel: {notices:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn forged_or_missing_signatures_are_refused_and_nothing_is_stored() {
    let app = TestApp::start(|_| {}).await;
    let mut forged = fixture("payhip/paid.json");
    forged["signature"] = Value::String(payhip_signature("someone-elses-key"));
    let (status, body) = app.post(PATH, serde_json::to_vec(&forged).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("signature"), "{body}");

    let mut unsigned = fixture("payhip/paid.json");
    unsigned.as_object_mut().unwrap().remove("signature");
    let (status, _) = app.post(PATH, serde_json::to_vec(&unsigned).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    app.stop().await;
}

#[tokio::test]
async fn unsigned_test_payloads_are_acknowledged_but_not_stored() {
    let app = TestApp::start(|_| {}).await;
    let mut test = fixture("payhip/paid.json");
    test["signature"] = Value::String("test_signature_from_payhip".into());
    let (status, body) = app.post(PATH, serde_json::to_vec(&test).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reply: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (&reply["test"], &reply["stored"]),
        (&Value::Bool(true), &Value::Bool(false))
    );
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.events, counts.sales), (0, 0));
    app.stop().await;
}

#[tokio::test]
async fn unknown_types_are_acknowledged_and_recorded_without_a_notice() {
    let app = TestApp::start(|c| c.discord_config.sales_channel_id = Some(42)).await;
    let (status, body) = app.post(PATH, payhip_signed("unknown_type")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.events, counts.sales), (1, 0));
    assert!(app.store().outbox_rows().await.unwrap().is_empty());
    let (_, again) = app.post(PATH, payhip_signed("unknown_type")).await;
    assert!(again.contains("\"duplicate\":true"), "{again}");
    app.stop().await;
}

#[tokio::test]
async fn malformed_bodies_get_400_with_a_reason() {
    let app = TestApp::start(|_| {}).await;
    let (status, body) = app.post(PATH, "{\"type\": \"paid\", ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("not valid JSON"), "{body}");

    let (status, body) = app.post(PATH, "[1, 2]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("JSON object"), "{body}");

    let mut no_id = fixture("payhip/paid.json");
    no_id.as_object_mut().unwrap().remove("id");
    no_id["signature"] = Value::String(payhip_signature(PAYHIP_KEY));
    let (status, body) = app.post(PATH, serde_json::to_vec(&no_id).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("`id`"), "{body}");
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    app.stop().await;
}

#[tokio::test]
async fn oversize_bodies_get_413() {
    let app = TestApp::start(|_| {}).await;
    let big = vec![b' '; 100 * 1024];
    let (status, _) = app.post(PATH, big.clone()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // Without a Content-Length the limit still holds while the body streams in.
    let stream = futures_stream(big);
    let (status, _) = app
        .oneshot(Request::post(PATH).body(Body::from_stream(stream)).unwrap())
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    app.stop().await;
}

/// The body in 1 KiB chunks, as a chunked upload would arrive.
fn futures_stream(
    bytes: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::convert::Infallible>> + Send + 'static {
    let chunks: Vec<_> = bytes.chunks(1024).map(|c| Ok(c.to_vec())).collect();
    futures_util::stream::iter(chunks)
}

#[tokio::test]
async fn other_methods_get_405_and_get_says_the_endpoint_is_live() {
    let app = TestApp::start(|_| {}).await;
    let (status, _) = app
        .oneshot(Request::put(PATH).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, body) = app
        .oneshot(Request::get(PATH).body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("live"), "{body}");
    app.stop().await;
}

#[tokio::test]
async fn without_an_api_key_the_route_explains_itself_with_503() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let app = TestApp::start_with(dir, &url, |_| {}, |env| env.secrets.payhip_api_key = None).await;
    let (status, body) = app.post(PATH, payhip_signed("paid")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("PAYHIP_API_KEY"), "{body}");
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    app.stop().await;
}

#[tokio::test]
async fn the_webhook_path_comes_from_the_config() {
    let app = TestApp::start(|c| c.webhook_config.webhook_path = "/hooks/store".into()).await;
    let (status, _) = app.post("/hooks/store", payhip_signed("paid")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.post(PATH, payhip_signed("paid")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let app = TestApp::start(|_| {}).await;
    let (status, _) = app
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    app.store().close().await;
    let (status, _) = app
        .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}
