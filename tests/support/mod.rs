//! Shared test support: fixtures, a started app on a temporary database, and HTTP helpers.
#![allow(dead_code)]

pub mod discord;
pub mod gateway;
pub mod payhip_api;
mod seed;
mod wait;

pub use seed::{seeded_rng, test_seed};
pub use wait::{eventually, settled, WAIT};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use integrations_bot::app::{self, Running};
use integrations_bot::clock::{Clock, ManualClock};
use integrations_bot::config::{Config, Environment, Secret, Settings};
use integrations_bot::db::Store;
use serde_json::Value;
use sha2::Digest;
use tower::ServiceExt;

pub const PAYHIP_KEY: &str = "test-payhip-api-key-0123";

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(path: &str) -> Value {
    let text = std::fs::read_to_string(fixtures_dir().join(path)).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

pub fn payhip_signature(key: &str) -> String {
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// A Payhip fixture signed with [`PAYHIP_KEY`].
pub fn payhip_signed(name: &str) -> Vec<u8> {
    let mut v = fixture(&format!("payhip/{name}.json"));
    v["signature"] = Value::String(payhip_signature(PAYHIP_KEY));
    serde_json::to_vec(&v).expect("serialises")
}

/// The Payhip `paid` fixture as the sale `id`, changed by `edit`, then signed with
/// [`PAYHIP_KEY`]: the one builder of signed sales the tests share.
pub fn payhip_sale_with(id: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = fixture("payhip/paid.json");
    v["id"] = Value::String(id.to_owned());
    edit(&mut v);
    payhip_sign(v)
}

/// The Payhip `paid` fixture as the sale `id`, signed.
pub fn payhip_sale(id: &str) -> Vec<u8> {
    payhip_sale_with(id, |_| {})
}

/// Any Payhip payload, signed with [`PAYHIP_KEY`].
pub fn payhip_sign(mut v: Value) -> Vec<u8> {
    v["signature"] = Value::String(payhip_signature(PAYHIP_KEY));
    serde_json::to_vec(&v).expect("serialises")
}

/// Every Payhip fixture of an announced event type, signed.
pub const PAYHIP_EVENTS: [&str; 4] = [
    "paid",
    "refunded",
    "subscription_created",
    "subscription_deleted",
];

pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("data/sales.db").display())
}

/// The PostgreSQL server the suite runs against, when `TEST_DATABASE_URL` names one.
pub fn postgres_server() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}

/// A database no other test (or earlier run) has touched: a SQLite file in `dir`, or a new
/// schema on the PostgreSQL server of `TEST_DATABASE_URL`.
pub async fn fresh_database_url(dir: &Path) -> String {
    let Some(server) = postgres_server() else {
        return sqlite_url(dir);
    };
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let schema = format!(
        "it_{}_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let pool = sqlx::PgPool::connect(&server)
        .await
        .expect("TEST_DATABASE_URL reachable");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("create test schema");
    pool.close().await;
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}options=-c%20search_path%3D{schema}")
}

/// An app on a fresh SQLite database in its own temporary folder, listening on loopback, on a
/// clock the test can move forward ([`TestApp::advance`]).
pub struct TestApp {
    pub running: Running,
    pub dir: tempfile::TempDir,
    pub base: String,
    pub clock: Arc<ManualClock>,
}

impl TestApp {
    pub async fn start(configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(dir.path()).await;
        Self::start_with(dir, &url, configure, |_| {}).await
    }

    pub async fn start_with(
        dir: tempfile::TempDir,
        database_url: &str,
        configure: impl FnOnce(&mut Config),
        env: impl FnOnce(&mut Environment),
    ) -> TestApp {
        let mut config = Config::default();
        config.webhook_config.bind_address = [127, 0, 0, 1].into();
        config.webhook_config.webhook_port = 0;
        configure(&mut config);
        let mut environment = Environment::default();
        environment.secrets.payhip_api_key = Some(Secret::new(PAYHIP_KEY));
        environment.secrets.xsolla_secret_key = Some(Secret::new(XSOLLA_SECRET));
        for (name, value) in STORE_SECRETS {
            environment
                .secrets
                .stores
                .set(name, Some(Secret::new(value)));
        }
        environment.database_url = Some(database_url.to_owned());
        env(&mut environment);
        let settings = Settings::resolve(config, environment, None);
        let clock = Arc::new(ManualClock::new());
        let running = app::start_with_clock(settings, clock.clone())
            .await
            .expect("app starts");
        let base = format!("http://{}", running.addr);
        TestApp {
            running,
            dir,
            base,
            clock,
        }
    }

    /// An app with a bot token, pointed at a fake Discord at `discord_base`.
    pub async fn with_discord(
        discord_base: String,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = fresh_database_url(dir.path()).await;
        Self::start_with(dir, &url, configure, |env| {
            env.secrets.discord_token = Some(Secret::new("fake-bot-token"));
            env.discord_api_base = Some(discord_base);
        })
        .await
    }

    pub fn store(&self) -> &Store {
        self.running.state.store()
    }

    /// Moves the app's clock forward and wakes the outbox, so whatever became due is tried now.
    pub fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
        self.running.state.outbox_wakeup().notify_one();
    }

    /// Rides out a Discord outage of `total` on the app's clock, `step` at a time. `step` must be
    /// no shorter than the backoff's cap, so each step makes the next retry due, and shorter than
    /// the lease, so a queue being posted is told apart from one rescheduled. At each step the
    /// refused post is awaited and then its new schedule, before the clock moves again: no step
    /// waits for a real backoff.
    pub async fn ride_out(&self, discord: &discord::FakeDiscord, total: Duration, step: Duration) {
        let step_ms = i64::try_from(step.as_millis()).expect("a short step");
        let store = self.store().clone();
        let clock = self.clock.clone();
        for _ in 0..total.as_millis() / step.as_millis() {
            let tried = discord.requests().len();
            self.advance(step);
            discord.wait_for_requests(tried + 1, WAIT).await;
            eventually("the refused notice to be rescheduled", WAIT, || {
                let (store, clock) = (store.clone(), clock.clone());
                async move {
                    let due = store.next_due().await.ok().flatten();
                    due.is_some_and(|at| at <= clock.now_ms() + step_ms)
                }
            })
            .await;
        }
    }

    /// Sends one request through the app's router, without the network.
    pub async fn oneshot(&self, request: Request<Body>) -> (StatusCode, String) {
        let router = integrations_bot::webhook::router(self.running.state.clone());
        let response = router.oneshot(request).await.expect("router answers");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    pub async fn post(&self, path: &str, body: impl Into<Body>) -> (StatusCode, String) {
        self.oneshot(
            Request::post(path)
                .header("content-type", "application/json")
                .body(body.into())
                .expect("request"),
        )
        .await
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.running.stop().await.expect("clean stop");
        self.dir
    }
}

/// The bodies kept in `events.raw`, read straight from the database.
pub async fn raw_bodies(app: &TestApp) -> Vec<String> {
    let url = app.running.state.settings().database_url.clone();
    let query = "SELECT raw FROM events ORDER BY id";
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows = sqlx::query_scalar(query).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let rows = sqlx::query_scalar(query).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

pub const XSOLLA_SECRET: &str = "test-xsolla-secret-key";

/// An Xsolla fixture's exact bytes and the `Authorization` value that signs them.
pub fn xsolla_signed(name: &str) -> (Vec<u8>, String) {
    let body =
        std::fs::read(fixtures_dir().join(format!("xsolla/{name}.json"))).expect("fixture exists");
    let sig = integrations_bot::providers::xsolla::signature(&body, &Secret::new(XSOLLA_SECRET));
    (body, format!("Signature {sig}"))
}

/// The secrets every test app has for the stores of the registry's table.
pub const STORE_SECRETS: [(&str, &str); 4] = [
    ("STRIPE_WEBHOOK_SECRET", STRIPE_SECRET),
    ("LEMONSQUEEZY_SIGNING_SECRET", LEMONSQUEEZY_SECRET),
    ("GUMROAD_WEBHOOK_TOKEN", GUMROAD_TOKEN),
    ("KOFI_VERIFICATION_TOKEN", KOFI_TOKEN),
];

pub const STRIPE_SECRET: &str = "whsec_test_integrations_bot";

/// A Stripe fixture's exact bytes and the `Stripe-Signature` Stripe would send with it now.
pub fn stripe_signed(name: &str) -> (Vec<u8>, String) {
    let body =
        std::fs::read(fixtures_dir().join(format!("stripe/{name}.json"))).expect("fixture exists");
    let header = stripe_signature(&body, chrono::Utc::now().timestamp());
    (body, header)
}

pub fn stripe_signature(body: &[u8], timestamp: i64) -> String {
    integrations_bot::providers::stripe::signature_header(
        timestamp,
        body,
        &Secret::new(STRIPE_SECRET),
    )
}

/// Every Stripe fixture.
pub const STRIPE_EVENTS: [&str; 9] = [
    "checkout_session_completed",
    "payment_intent_succeeded",
    "payment_intent_succeeded_jpy",
    "charge_refunded_partial",
    "charge_refunded_full",
    "charge_dispute_created",
    "customer_subscription_created",
    "customer_subscription_deleted",
    "invoice_paid",
];

pub const LEMONSQUEEZY_SECRET: &str = "test-lemonsqueezy-signing-secret";

/// A Lemon Squeezy fixture's exact bytes and its `X-Signature`.
pub fn lemonsqueezy_signed(name: &str) -> (Vec<u8>, String) {
    let body = std::fs::read(fixtures_dir().join(format!("lemonsqueezy/{name}.json")))
        .expect("fixture exists");
    let sig = integrations_bot::providers::lemonsqueezy::signature(
        &body,
        &Secret::new(LEMONSQUEEZY_SECRET),
    );
    (body, sig)
}

/// Every Lemon Squeezy fixture.
pub const LEMONSQUEEZY_EVENTS: [&str; 8] = [
    "order_created",
    "order_refunded_partial",
    "order_refunded_full",
    "subscription_created",
    "subscription_cancelled",
    "subscription_expired",
    "subscription_payment_success_initial",
    "subscription_payment_success_renewal",
];

pub const GUMROAD_TOKEN: &str = "test-gumroad-ping-token";

/// A Gumroad fixture: the form body as Gumroad posts it (without the file's final newline).
pub fn gumroad_form(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(fixtures_dir().join(format!("gumroad/{name}.form")))
        .expect("fixture exists");
    text.trim_end().as_bytes().to_vec()
}

/// Every Gumroad fixture but the test ping.
pub const GUMROAD_EVENTS: [&str; 8] = [
    "sale",
    "refund_partial",
    "refund",
    "dispute",
    "dispute_won",
    "cancellation",
    "subscription_ended",
    "subscription_restarted",
];

pub const KOFI_TOKEN: &str = "5e4d3c2b-1a09-4f8e-9d7c-6b5a49382716";

/// A Ko-fi fixture as Ko-fi posts it: `data=<the JSON>` with `token` as its verification token.
pub fn kofi_form(name: &str, token: &str) -> Vec<u8> {
    let mut data = fixture(&format!("kofi/{name}.json"));
    data["verification_token"] = Value::String(token.to_owned());
    form_urlencoded::Serializer::new(String::new())
        .append_pair("data", &data.to_string())
        .finish()
        .into_bytes()
}

/// Every Ko-fi fixture.
pub const KOFI_EVENTS: [&str; 5] = [
    "donation",
    "subscription_first",
    "subscription_renewal",
    "commission",
    "shop_order",
];
