//! The delivery worker stepped by hand on a driven clock, against the fake Discord: lost answers,
//! long rate limits, order across retries, poison rows and refused webhooks, with no real waiting.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use integrations_bot::clock::ManualClock;
use integrations_bot::config::{Config, Environment, Secret, Settings};
use integrations_bot::db::writer::Writer;
use integrations_bot::db::{OutboxRow, Store};
use integrations_bot::discord::rest::DiscordRest;
use integrations_bot::outbox::worker::Worker;
use integrations_bot::state::AppState;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::support::discord::{FakeDiscord, Scripted, Target};
use crate::support::*;

pub(crate) const SALES: u64 = 1001;
pub(crate) const HOOK: &str = "https://discord.com/api/webhooks/555/hook-token_1";

pub(crate) fn hook() -> Target {
    Target::Webhook {
        id: 555,
        token: "hook-token_1".into(),
    }
}

/// A worker on its own database and a manual clock; nothing runs unless the test steps it.
pub(crate) struct Stepper {
    state: AppState,
    worker: Worker,
    clock: Arc<ManualClock>,
    stop: CancellationToken,
    _dir: tempfile::TempDir,
}

pub(crate) struct Options {
    token: bool,
    timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            token: true,
            timeout: Duration::from_secs(10),
        }
    }
}

impl Stepper {
    pub(crate) async fn start(
        discord: &FakeDiscord,
        options: Options,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(dir.path()).await;
        let store = Store::connect(&url).await.unwrap();
        let mut config = Config::default();
        config.delivery.initial_backoff_ms = 1_000;
        config.delivery.max_backoff_ms = 60_000;
        configure(&mut config);
        let mut env = Environment::default();
        env.secrets.payhip_api_key = Some(Secret::new(PAYHIP_KEY));
        if options.token {
            env.secrets.discord_token = Some(Secret::new("fake-bot-token"));
        }
        env.database_url = Some(url);
        env.discord_api_base = Some(discord.base());
        let settings = Settings::resolve(config, env, None);
        let rest = DiscordRest::new(
            Some(&discord.base()),
            settings.secrets.discord_token.as_ref(),
        )
        .unwrap()
        .with_timeout(options.timeout);
        let wakeup = Arc::new(tokio::sync::Notify::new());
        let stop = CancellationToken::new();
        let (writer, _) = Writer::spawn(store.clone(), Arc::clone(&wakeup), stop.clone());
        let providers = integrations_bot::providers::registry(&settings.secrets);
        let clock = Arc::new(ManualClock::new());
        let state = AppState::new(settings, store, writer, providers, wakeup, clock.clone());
        let worker = Worker::new(state.clone(), rest);
        Stepper {
            state,
            worker,
            clock,
            stop,
            _dir: dir,
        }
    }

    pub(crate) fn store(&self) -> &Store {
        self.state.store()
    }

    /// A signed Payhip sale with this id, through the real intake route.
    pub(crate) async fn sale(&self, id: &str) {
        let request = Request::post("/webhook/payhip")
            .header("content-type", "application/json")
            .body(Body::from(payhip_sale(id)))
            .unwrap();
        let response = integrations_bot::webhook::router(self.state.clone())
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// Claims and delivers everything due at the clock's time; returns how much was claimed.
    pub(crate) async fn step(&self) -> usize {
        let mut total = 0;
        loop {
            let n = self.worker.try_execute_batch().await.unwrap();
            if n == 0 {
                return total;
            }
            total += n;
        }
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Moves the clock to just after the start of the next minute, so that sales made now fall in
    /// one minute whatever the wall clock says (the manual clock runs on from real time).
    pub(crate) fn to_next_minute(&self) {
        use integrations_bot::clock::Clock as _;
        let now = self.clock.now_ms();
        let next = (now.div_euclid(60_000) + 1) * 60_000 + 500;
        self.advance(Duration::from_millis((next - now).unsigned_abs()));
    }

    pub(crate) async fn rows(&self) -> Vec<OutboxRow> {
        self.store().outbox_rows().await.unwrap()
    }
}

impl Drop for Stepper {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Transaction ids of the sales a target received, in the order they arrived.
fn sales_to(discord: &FakeDiscord, target: &Target) -> Vec<String> {
    discord.sale_ids_to(target)
}

pub(crate) fn to_hook(c: &mut Config) {
    c.notifications.new_sale.webhook_urls = vec![HOOK.into()];
}

#[tokio::test]
async fn a_lost_answer_from_a_webhook_url_is_found_in_its_channel_not_posted_again() {
    let discord = FakeDiscord::start().await;
    discord.script_for(hook(), [Scripted::Lost]);
    let w = Stepper::start(&discord, Options::default(), to_hook).await;
    w.sale("LOST-1").await;
    assert_eq!(w.step().await, 1);
    assert_eq!(discord.messages_to(&hook()).len(), 1, "Discord took it");
    let rows = w.rows().await;
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("pending", 1));

    w.advance(Duration::from_secs(60));
    w.step().await;
    let posted = discord.messages_to(&hook());
    assert_eq!(posted.len(), 1, "not posted a second time");
    let footer = posted[0].body["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap();
    assert!(footer.starts_with("Payhip · ref "), "{footer}");
    let rows = w.rows().await;
    assert_eq!(rows[0].status, "delivered");
    assert_eq!(
        rows[0].discord_message_id.as_deref(),
        Some(posted[0].message_id.as_str()),
        "the message found is recorded"
    );
    let looked = discord.requests();
    assert!(looked
        .iter()
        .any(|r| r.method == "GET" && r.path == "/api/v10/channels/555/messages"));
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_found_not_posted_again() {
    let discord = FakeDiscord::start().await;
    discord.script_for(hook(), [Scripted::Delay(Duration::from_secs(3))]);
    let options = Options {
        timeout: Duration::from_millis(300),
        ..Options::default()
    };
    let w = Stepper::start(&discord, options, to_hook).await;
    w.sale("SLOW-1").await;
    w.step().await;
    w.advance(Duration::from_secs(60));
    w.step().await;
    assert_eq!(discord.messages_to(&hook()).len(), 1);
    assert_eq!(w.rows().await[0].status, "delivered");
}

/// Without a way to look (no bot token, or a channel the bot may not read), a lost answer is
/// followed by one more post at most; a second lost answer gives the notice up with its reason.
async fn unverifiable(options: Options, unreadable: bool) {
    let discord = FakeDiscord::start().await;
    if unreadable {
        discord.set_unreadable(555);
    }
    discord.script_for(hook(), [Scripted::Lost, Scripted::Lost]);
    let w = Stepper::start(&discord, options, to_hook).await;
    w.sale("BLIND-1").await;
    w.step().await;
    w.advance(Duration::from_secs(60));
    w.step().await;
    assert_eq!(discord.messages_to(&hook()).len(), 2, "posted once more");
    w.advance(Duration::from_secs(60));
    w.step().await;
    w.advance(Duration::from_secs(3600));
    w.step().await;
    assert_eq!(discord.messages_to(&hook()).len(), 2, "never a third time");
    let rows = w.rows().await;
    assert_eq!(rows[0].status, "dead");
    let reason = rows[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("lost twice") && reason.contains("cannot check"),
        "{reason}"
    );
}

#[tokio::test]
async fn without_a_bot_token_a_lost_answer_is_posted_at_most_once_more() {
    let options = Options {
        token: false,
        ..Options::default()
    };
    unverifiable(options, false).await;
}

#[tokio::test]
async fn when_the_bot_cannot_read_the_channel_a_lost_answer_is_posted_at_most_once_more() {
    unverifiable(Options::default(), true).await;
}

#[tokio::test]
async fn an_hour_long_rate_limit_waits_fifteen_minutes_and_holds_up_no_other_destination() {
    let discord = FakeDiscord::start().await;
    discord.script_for(
        Target::Channel(SALES),
        [Scripted::RateLimited {
            retry_after: 3600.0,
        }],
    );
    let w = Stepper::start(&discord, Options::default(), |c| {
        c.discord_config.sales_channel_id = Some(SALES);
        to_hook(c);
    })
    .await;
    w.sale("RL-1").await;
    w.step().await;
    w.sale("RL-2").await;
    w.step().await;
    assert_eq!(
        sales_to(&discord, &hook()),
        ["RL-1", "RL-2"],
        "the webhook URL is not held up"
    );
    assert!(discord.messages_to(&Target::Channel(SALES)).is_empty());

    w.advance(Duration::from_secs(14 * 60));
    w.step().await;
    assert!(
        discord.messages_to(&Target::Channel(SALES)).is_empty(),
        "retry_after is honoured"
    );
    w.advance(Duration::from_secs(61));
    w.step().await;
    assert_eq!(
        sales_to(&discord, &Target::Channel(SALES)),
        ["RL-1", "RL-2"],
        "after 15 minutes, not an hour, in order"
    );
    let rows = w.rows().await;
    assert!(rows.iter().all(|r| r.status == "delivered"), "{rows:?}");
    let limited = rows
        .iter()
        .find(|r| r.destination == format!("channel:{SALES}") && r.attempts == 2);
    assert!(
        limited.is_some(),
        "the rate-limited post counted as an attempt: {rows:?}"
    );
}

#[tokio::test]
async fn a_notice_queued_behind_a_failed_one_waits_for_it() {
    let discord = FakeDiscord::start().await;
    discord.script_for(Target::Channel(SALES), [Scripted::Status(500)]);
    let w = Stepper::start(&discord, Options::default(), |c| {
        c.discord_config.sales_channel_id = Some(SALES)
    })
    .await;
    w.sale("ORD-1").await;
    w.step().await;
    w.sale("ORD-2").await;
    w.step().await;
    assert!(
        discord.messages().is_empty(),
        "ORD-2 does not overtake ORD-1"
    );
    w.advance(Duration::from_secs(60));
    w.step().await;
    assert_eq!(
        sales_to(&discord, &Target::Channel(SALES)),
        ["ORD-1", "ORD-2"]
    );
}

#[tokio::test]
async fn a_webhook_url_refusing_its_token_is_dead_lettered_at_once_with_the_fix() {
    let discord = FakeDiscord::start().await;
    discord.script_for(hook(), [Scripted::Status(401)]);
    let w = Stepper::start(&discord, Options::default(), |c| {
        c.discord_config.sales_channel_id = Some(SALES);
        to_hook(c);
    })
    .await;
    w.sale("REVOKED-1").await;
    w.step().await;
    let rows = w.rows().await;
    let dead = rows
        .iter()
        .find(|r| r.status == "dead")
        .expect("dead-lettered");
    let reason = dead.last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("webhook 555") && reason.contains("reset or revoked"),
        "{reason}"
    );
    assert!(!reason.contains("hook-token_1"), "{reason}");
    assert_eq!(dead.attempts, 1);
    assert_eq!(sales_to(&discord, &Target::Channel(SALES)), ["REVOKED-1"]);
}

#[tokio::test]
async fn an_unreadable_event_among_64_is_dead_lettered_alone() {
    let discord = FakeDiscord::start().await;
    let w = Stepper::start(&discord, Options::default(), |c| {
        c.discord_config.sales_channel_id = Some(SALES)
    })
    .await;
    for i in 0..64 {
        w.sale(&format!("P-{i:02}")).await;
    }
    let poisoned = w.rows().await[17].event_id;
    let corrupt = "UPDATE events SET data = '{\"no longer\": \"an event\"}' WHERE id = $1";
    match w.store() {
        Store::Sqlite(p) => sqlx::query(corrupt)
            .bind(poisoned)
            .execute(&**p)
            .await
            .map(drop),
        Store::Postgres(p) => sqlx::query(corrupt)
            .bind(poisoned)
            .execute(p)
            .await
            .map(drop),
    }
    .unwrap();
    assert_eq!(w.step().await, 64, "one claim");
    let ids = discord.sale_ids();
    assert_eq!(ids.len(), 63, "{ids:?}");
    assert!(
        discord.messages().len() < 10,
        "packed, not one message per sale"
    );
    assert!(
        !ids.contains(&"P-17".to_owned()),
        "the unreadable one is not"
    );
    let counts = w.store().outbox_counts().await.unwrap();
    assert_eq!((counts.delivered, counts.dead, counts.pending), (63, 1, 0));
    let rows = w.rows().await;
    let reason = rows[17].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains(&format!("stored event {poisoned} cannot be read")),
        "{reason}"
    );
}
