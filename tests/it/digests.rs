//! Digests stepped by hand at chosen times against the fake Discord: one message per period
//! across a restart and across two instances on one database, a late digest after the bot was
//! down over its time, and a lost answer retried under the same nonce.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use integrations_bot::clock::ManualClock;
use integrations_bot::config::digests::{Digest, Every};
use integrations_bot::config::{Config, Environment, Secret, Settings};
use integrations_bot::db::writer::Writer;
use integrations_bot::db::Store;
use integrations_bot::digest::schedule::latest_due;
use integrations_bot::digest::{Scheduler, Sent};
use integrations_bot::discord::rest::DiscordRest;
use integrations_bot::state::AppState;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::support::discord::{FakeDiscord, Posted, Scripted, Target};
use crate::support::*;

const CHANNEL: u64 = 4242;

fn daily() -> Digest {
    Digest {
        every: Every::Day,
        channel_id: Some(CHANNEL),
        at: Some("09:00".into()),
        weekday: None,
    }
}

/// When the latest daily digest was due: 09:00 UTC today, or yesterday before that.
fn due_at() -> DateTime<Utc> {
    latest_due(&daily(), CHANNEL, Utc::now(), Tz::UTC).due_at
}

/// One instance of the bot: its own pool, writer and state on a shared database; nothing runs
/// unless the test steps it.
struct Instance {
    state: AppState,
    scheduler: Scheduler,
    stop: CancellationToken,
}

impl Instance {
    async fn start(discord: &FakeDiscord, url: &str) -> Self {
        Self::start_with(discord, url, vec![daily()]).await
    }

    async fn start_with(discord: &FakeDiscord, url: &str, digests: Vec<Digest>) -> Self {
        let store = Store::connect(url).await.unwrap();
        let mut config = Config::default();
        config.digests = digests;
        let mut env = Environment::default();
        env.secrets.payhip_api_key = Some(Secret::new(PAYHIP_KEY));
        env.secrets.discord_token = Some(Secret::new("fake-bot-token"));
        env.database_url = Some(url.to_owned());
        env.discord_api_base = Some(discord.base());
        let settings = Settings::resolve(config, env, None);
        let rest = DiscordRest::new(
            Some(&discord.base()),
            settings.secrets.discord_token.as_ref(),
        )
        .unwrap()
        .with_timeout(Duration::from_secs(5));
        let wakeup = Arc::new(tokio::sync::Notify::new());
        let stop = CancellationToken::new();
        let (writer, _) = Writer::spawn(store.clone(), Arc::clone(&wakeup), stop.clone());
        let providers = integrations_bot::providers::registry(&settings.secrets);
        let clock = Arc::new(ManualClock::new());
        let state = AppState::new(settings, store, writer, providers, wakeup, clock);
        let scheduler = Scheduler::new(state.clone(), rest);
        Instance {
            state,
            scheduler,
            stop,
        }
    }

    async fn step(&self, at: DateTime<Utc>) -> Vec<Sent> {
        self.scheduler.run_due(at).await.unwrap()
    }

    /// A signed Payhip sale of $29.99 made at `at`, through the real intake route.
    async fn sale(&self, id: &str, at: DateTime<Utc>) {
        let body = payhip_sale_with(id, |v| v["date"] = at.timestamp().into());
        let request = Request::post("/webhook/payhip")
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap();
        let response = integrations_bot::webhook::router(self.state.clone())
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn digests_in(discord: &FakeDiscord) -> Vec<Posted> {
    discord.messages_to(&Target::Channel(CHANNEL))
}

fn title(m: &Posted) -> String {
    m.body["embeds"][0]["title"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_digest_is_posted_once_across_a_restart_with_its_chart() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let due = due_at();
    let first = Instance::start(&discord, &url).await;
    first.sale("DIGEST-1", due - TimeDelta::hours(12)).await;
    let sent = first.step(due + TimeDelta::minutes(1)).await;
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].late);
    drop(first);

    let again = Instance::start(&discord, &url).await;
    assert!(again.step(due + TimeDelta::minutes(2)).await.is_empty());
    assert!(again.step(due + TimeDelta::hours(5)).await.is_empty());
    let posted = digests_in(&discord);
    assert_eq!(posted.len(), 1, "one digest for the day");
    let m = &posted[0];
    let day = (due - TimeDelta::days(1)).format("%-d %b").to_string();
    assert_eq!(title(m), format!("Daily digest: {day}"));
    let text = m.body["embeds"][0].to_string();
    assert!(text.contains("Gross: **$29.99**"), "{text}");
    assert!(text.contains("Pixel Art Course"), "top products: {text}");
    assert_eq!(m.body["_files"][0]["name"], "chart.png");
    assert_eq!(
        m.body["embeds"][0]["image"]["url"],
        "attachment://chart.png"
    );
    let rows = again.state.store().digest_rows().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "posted");
    assert_eq!(rows[0].message_id.as_deref(), Some(m.message_id.as_str()));
}

#[tokio::test]
async fn two_instances_on_one_database_post_one_digest() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let (a, b) = (
        Instance::start(&discord, &url).await,
        Instance::start(&discord, &url).await,
    );
    let at = due_at() + TimeDelta::seconds(30);
    let (x, y) = tokio::join!(a.step(at), b.step(at));
    assert_eq!(x.len() + y.len(), 1, "{x:?} {y:?}");
    let later = at + TimeDelta::minutes(1);
    let (x, y) = tokio::join!(a.step(later), b.step(later));
    assert!(x.is_empty() && y.is_empty());
    assert_eq!(digests_in(&discord).len(), 1);
}

#[tokio::test]
async fn a_digest_missed_while_the_bot_was_down_is_posted_once_marked_late() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let due = due_at();
    let before = Instance::start(&discord, &url).await;
    assert!(
        before.step(due - TimeDelta::hours(2)).await.is_empty(),
        "set up after the previous day's time: that one is not posted late"
    );
    drop(before);
    // Down from two hours before the time to three hours after it.
    let back = Instance::start(&discord, &url).await;
    let sent = back.step(due + TimeDelta::hours(3)).await;
    assert_eq!(sent.len(), 1);
    assert!(sent[0].late);
    assert!(back
        .step(due + TimeDelta::hours(3) + TimeDelta::minutes(1))
        .await
        .is_empty());
    let posted = digests_in(&discord);
    assert_eq!(posted.len(), 1);
    assert!(
        title(&posted[0]).ends_with("(late)"),
        "{}",
        title(&posted[0])
    );
    let footer = posted[0].body["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap();
    assert!(
        footer.starts_with("Posted late: the bot was offline at"),
        "{footer}"
    );
    let rows = back.state.store().digest_rows().await.unwrap();
    let statuses: Vec<(&str, bool)> = rows.iter().map(|r| (r.status.as_str(), r.late)).collect();
    assert_eq!(statuses, [("skipped", false), ("posted", true)]);
}

#[tokio::test]
async fn a_lost_answer_is_retried_after_the_lease_under_the_same_nonce() {
    let discord = FakeDiscord::start().await;
    discord.script_for(Target::Channel(CHANNEL), [Scripted::Lost]);
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let one = Instance::start(&discord, &url).await;
    let at = due_at() + TimeDelta::minutes(1);
    assert!(one.scheduler.run_due(at).await.is_err(), "no answer");
    assert_eq!(digests_in(&discord).len(), 1, "Discord has it");
    let other = Instance::start(&discord, &url).await;
    assert!(
        other.step(at + TimeDelta::minutes(1)).await.is_empty(),
        "still leased to the first"
    );
    let sent = other.step(at + TimeDelta::minutes(3)).await;
    assert_eq!(sent.len(), 1, "taken over once the lease passed");
    let posted = digests_in(&discord);
    assert_eq!(
        posted.len(),
        1,
        "the nonce kept Discord from posting it again"
    );
    assert_eq!(
        sent[0].message_id.as_deref(),
        Some(posted[0].message_id.as_str())
    );
}

#[tokio::test]
async fn the_running_bot_posts_a_digest_missed_while_it_was_down_when_it_starts() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    // It ran before the latest time, knowing the digest, and was down over that time.
    let earlier = Instance::start(&discord, &url).await;
    assert!(earlier
        .step(due_at() - TimeDelta::hours(2))
        .await
        .is_empty());
    drop(earlier);
    let base = discord.base();
    let app = TestApp::start_with(
        dir,
        &url,
        |c| c.digests = vec![daily()],
        |env| {
            env.secrets.discord_token = Some(Secret::new("fake-bot-token"));
            env.discord_api_base = Some(base);
        },
    )
    .await;
    discord
        .wait_for_messages_to(&Target::Channel(CHANNEL), 1, Duration::from_secs(10))
        .await;
    assert!(title(&digests_in(&discord)[0]).starts_with("Daily digest: "));
    app.running.stop().await.unwrap();
    assert_eq!(digests_in(&discord).len(), 1);
}

#[tokio::test]
async fn a_digest_discord_refuses_is_given_up_not_retried_every_tick() {
    let discord = FakeDiscord::start().await;
    discord.script_for(Target::Channel(CHANNEL), [Scripted::Status(403)]);
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let bot = Instance::start(&discord, &url).await;
    let at = due_at() + TimeDelta::minutes(1);
    assert!(bot.scheduler.run_due(at).await.is_err());
    assert!(bot.step(at + TimeDelta::minutes(5)).await.is_empty());
    let path = format!("/api/v10/channels/{CHANNEL}/messages");
    let tries = discord
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count();
    assert_eq!(tries, 1);
    let rows = bot.state.store().digest_rows().await.unwrap();
    assert_eq!(rows[0].status, "failed");
}

#[tokio::test]
async fn a_daily_and_a_weekly_digest_on_the_same_morning_are_two_messages_once_each() {
    let discord = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let due = due_at();
    let weekly = Digest {
        every: Every::Week,
        weekday: Some(due.format("%A").to_string().to_lowercase()),
        ..daily()
    };
    let bot = Instance::start_with(&discord, &url, vec![daily(), weekly]).await;
    let sent = bot.step(due + TimeDelta::minutes(1)).await;
    let week_start = (due - TimeDelta::days(7)).format("%Y-%m-%d");
    let keys: Vec<&str> = sent.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            format!(
                "day:{CHANNEL}:{}",
                (due - TimeDelta::days(1)).format("%Y-%m-%d")
            ),
            format!("week:{CHANNEL}:{week_start}"),
        ]
    );
    assert!(bot.step(due + TimeDelta::minutes(2)).await.is_empty());
    let titles: Vec<String> = digests_in(&discord).iter().map(title).collect();
    assert_eq!(titles.len(), 2);
    assert!(titles[0].starts_with("Daily digest: "));
    assert!(titles[1].starts_with("Weekly digest: "), "{titles:?}");
}
