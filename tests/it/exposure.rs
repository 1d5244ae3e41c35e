//! `/metrics` shows sales and refunds: not on the public port unless a token guards it, and on
//! `webhookConfig.metricsAddr` for a local scraper.

use reqwest::StatusCode;

use crate::support::*;

const TOKEN: &str = "metrics-token-for-tests";

async fn get(url: &str, bearer: Option<&str>) -> (StatusCode, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let res = request.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn metrics_are_not_served_on_the_public_port_by_default() {
    let app = TestApp::start(|_| {}).await;
    let (status, _) = get(&format!("{}/metrics", app.base), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.running.metrics_addr, None);
    app.stop().await;
}

#[tokio::test]
async fn metrics_addr_serves_the_outbox_for_alerting_and_the_public_port_does_not() {
    let app = TestApp::start(|c| {
        c.discord_config.sales_channel_id = Some(42);
        c.webhook_config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    app.post("/webhook/payhip", payhip_signed("paid")).await;
    let metrics = format!("http://{}/metrics", app.running.metrics_addr.unwrap());
    let (status, body) = get(&metrics, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("integrations_bot_sales 1\n"), "{body}");
    assert!(
        body.contains("integrations_bot_notices{state=\"dead\"} 0\n"),
        "{body}"
    );
    assert!(
        body.contains("integrations_bot_http_connections_timed_out_total 0\n"),
        "{body}"
    );
    let (status, _) = get(&format!("{}/metrics", app.base), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The metrics address serves nothing else.
    let webhook = format!(
        "http://{}/webhook/payhip",
        app.running.metrics_addr.unwrap()
    );
    let (status, _) = get(&webhook, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn with_metrics_token_set_metrics_need_it_on_every_address() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let app = TestApp::start_with(
        dir,
        &url,
        |c| c.webhook_config.metrics_addr = Some("127.0.0.1:0".parse().unwrap()),
        |env| env.secrets.metrics_token = Some(integrations_bot::config::Secret::new(TOKEN)),
    )
    .await;
    let public = format!("{}/metrics", app.base);
    let private = format!("http://{}/metrics", app.running.metrics_addr.unwrap());
    for url in [&public, &private] {
        let (status, body) = get(url, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{url}");
        assert!(!body.contains("integrations_bot_sales"), "{body}");
        let (status, _) = get(url, Some("metrics-token-for-test")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{url}");
        let (status, body) = get(url, Some(TOKEN)).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        assert!(body.contains("integrations_bot_sales 0\n"), "{body}");
    }
    app.stop().await;
}
