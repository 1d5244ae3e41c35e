//! `xsollaConfig.forwardUrl`: the bot in front of a seller's game server, against a fake one that
//! accepts, refuses, hangs or is down.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use integrations_bot::config::Secret;
use serde_json::Value;

use crate::support::*;

const PATH: &str = "/webhook/xsolla";

#[derive(Clone, Copy)]
enum Mode {
    /// 204, as a game server that granted the items.
    Accept,
    /// 400 `INVALID_USER`, as a game server that does not know the player.
    Refuse,
    /// Never answers.
    Hang,
}

/// A request as the game server got it: body and `Authorization`.
type Received = (Bytes, Option<String>);

#[derive(Clone)]
struct GameServer {
    mode: Mode,
    received: Arc<Mutex<Vec<Received>>>,
}

impl GameServer {
    /// Listens on loopback; the URL to forward to.
    async fn start(mode: Mode) -> (GameServer, String) {
        let server = GameServer {
            mode,
            received: Arc::default(),
        };
        let app = Router::new()
            .route("/xsolla", post(answer))
            .with_state(server.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/xsolla", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (server, url)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn answer(
    State(server): State<GameServer>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    server.received.lock().unwrap().push((body, auth));
    match server.mode {
        Mode::Accept => StatusCode::NO_CONTENT.into_response(),
        Mode::Refuse => (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            r#"{"error":{"code":"INVALID_USER","message":"Invalid user"}}"#,
        )
            .into_response(),
        Mode::Hang => std::future::pending().await,
    }
}

async fn app_forwarding_to(url: String) -> TestApp {
    TestApp::start(move |c| {
        c.discord_config.sales_channel_id = Some(77);
        c.xsolla_config.forward_url = Some(url);
        c.xsolla_config.forward_timeout_ms = Some(300);
    })
    .await
}

async fn send(app: &TestApp, body: Vec<u8>, auth: &str) -> (StatusCode, String) {
    let req = Request::post(PATH)
        .header("content-type", "application/json")
        .header("authorization", auth)
        .body(Body::from(body))
        .unwrap();
    app.oneshot(req).await
}

#[tokio::test]
async fn an_accepted_notification_reaches_the_game_server_as_sent_and_is_then_recorded() {
    let (game, url) = GameServer::start(Mode::Accept).await;
    let app = app_forwarding_to(url).await;
    let (body, auth) = xsolla_signed("purchase_payment");
    let (status, text) = send(&app, body.clone(), &auth).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{text}");
    let received = game.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0.as_ref(), body.as_slice(), "the same bytes");
    assert_eq!(
        received[0].1.as_deref(),
        Some(auth.as_str()),
        "the same signature"
    );
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.events, counts.sales), (1, 1));
    assert_eq!(app.store().outbox_rows().await.unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_game_servers_refusal_goes_back_to_xsolla_and_nothing_is_recorded() {
    let (game, url) = GameServer::start(Mode::Refuse).await;
    let app = app_forwarding_to(url).await;
    let (body, auth) = xsolla_signed("user_validation");
    let (status, text) = send(&app, body, &auth).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["error"]["code"], "INVALID_USER", "{text}");
    assert_eq!(game.received().len(), 1);
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_game_server_that_is_down_or_slow_gets_xsolla_a_5xx_in_time_so_it_retries() {
    // A port that was just free: nothing listens there.
    let down = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}/xsolla", listener.local_addr().unwrap())
    };
    let (_slow, hanging) = GameServer::start(Mode::Hang).await;
    for (case, url, expected) in [
        ("down", down, StatusCode::BAD_GATEWAY),
        ("slow", hanging, StatusCode::GATEWAY_TIMEOUT),
    ] {
        let app = app_forwarding_to(url).await;
        let (body, auth) = xsolla_signed("purchase_order_paid");
        let started = Instant::now();
        let (status, text) = send(&app, body, &auth).await;
        assert_eq!(status, expected, "{case}: {text}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{case}: answered within the timeout"
        );
        assert!(status.is_server_error(), "Xsolla retries a 5xx");
        assert_eq!(
            app.store().table_counts().await.unwrap().events,
            0,
            "{case}: nothing recorded before the game server accepts"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_forged_notification_never_reaches_the_game_server() {
    let (game, url) = GameServer::start(Mode::Accept).await;
    let app = app_forwarding_to(url).await;
    let (body, _) = xsolla_signed("purchase_payment");
    let forged = format!(
        "Signature {}",
        integrations_bot::providers::xsolla::signature(&body, &Secret::new("guess"))
    );
    let (status, text) = send(&app, body, &forged).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(text.contains("INVALID_SIGNATURE"), "{text}");
    assert!(game.received().is_empty());
    app.stop().await;
}

#[test]
fn a_forward_url_that_is_not_http_or_a_timeout_out_of_range_is_named_at_start_up() {
    let mut c = integrations_bot::config::Config::default();
    c.xsolla_config.forward_url = Some("game.example.com/xsolla".into());
    c.xsolla_config.forward_timeout_ms = Some(120_000);
    let paths: Vec<String> = c.validate().into_iter().map(|p| p.path).collect();
    assert!(
        paths.contains(&"xsollaConfig.forwardUrl".to_owned())
            && paths.contains(&"xsollaConfig.forwardTimeoutMs".to_owned()),
        "{paths:?}"
    );
    c.xsolla_config.forward_url = Some("https://game.example.com/xsolla".into());
    c.xsolla_config.forward_timeout_ms = Some(5_000);
    assert!(c.validate().is_empty());
}
