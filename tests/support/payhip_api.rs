//! A fake Payhip license API (v2) on loopback, for `PAYHIP_API_BASE`. As Payhip does: a key is
//! checked against the one product whose secret key comes in the `product-secret-key` header;
//! a known key answers `{"data": {…}}`, an unknown one an empty body.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

#[derive(Clone, Debug)]
pub struct License {
    pub secret: String,
    pub enabled: bool,
    pub email: String,
}

#[derive(Default)]
struct Inner {
    licenses: HashMap<String, License>,
    /// (license_key, product-secret-key) of every request.
    requests: Vec<(String, String)>,
    /// Unknown keys answer `{"data": {}}` instead of an empty body.
    empty_data: bool,
    down: bool,
}

#[derive(Clone)]
pub struct FakePayhip {
    inner: Arc<Mutex<Inner>>,
    base: String,
}

impl FakePayhip {
    pub async fn start() -> FakePayhip {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake payhip");
        let fake = FakePayhip {
            inner: Arc::default(),
            base: format!("http://{}", listener.local_addr().expect("addr")),
        };
        let app = Router::new()
            .route("/api/v2/license/verify", get(verify))
            .with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub fn base(&self) -> String {
        self.base.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn add(&self, key: &str, secret: &str, enabled: bool) {
        self.lock().licenses.insert(
            key.to_owned(),
            License {
                secret: secret.to_owned(),
                enabled,
                email: "buyer@example.com".into(),
            },
        );
    }

    pub fn set_empty_data(&self, on: bool) {
        self.lock().empty_data = on;
    }

    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    pub fn requests(&self) -> Vec<(String, String)> {
        self.lock().requests.clone()
    }
}

async fn verify(
    State(fake): State<FakePayhip>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let key = q.get("license_key").cloned().unwrap_or_default();
    let secret = headers
        .get("product-secret-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut inner = fake.lock();
    inner.requests.push((key.clone(), secret.clone()));
    if inner.down {
        return axum::http::StatusCode::BAD_GATEWAY.into_response();
    }
    match inner.licenses.get(&key) {
        Some(l) if l.secret == secret => Json(json!({
            "data": {
                "enabled": l.enabled,
                "product_link": "fR3c",
                "license_key": key,
                "buyer_email": l.email,
                "uses": 0,
                "date": "2026-01-01T00:00:00+00:00",
            }
        }))
        .into_response(),
        _ if inner.empty_data => Json(json!({ "data": {} })).into_response(),
        _ => "".into_response(),
    }
}
