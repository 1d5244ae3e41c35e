//! The numbers behind docs/performance.md. Intake is measured as an outside client sees it: the
//! built binary in its own process on a fresh SQLite file per round, driven over loopback by a
//! lean load generator, with a Discord double taking its notices. Delivery latency and `/stats`
//! run the app in-process. Run with `cargo bench --bench bench` (add `-- --quick` for a smaller
//! run). Prints one line per figure.

mod burst;
#[path = "../../tests/support/discord.rs"]
#[allow(dead_code)]
mod discord;
mod load;
mod outside;

use std::sync::Arc;
use std::time::{Duration, Instant};

use integrations_bot::app;
use integrations_bot::config::{Config, Environment, Secret, Settings};
use integrations_bot::db::{NewEvent, Store};
use integrations_bot::domain::{Customer, Detail, Event, EventKind, Item, Money, Sale};
use integrations_bot::stats::{self, Filter, Period};
use serde_json::{json, Value};
use sha2::Digest;

const KEY: &str = "bench-payhip-key";

fn payload(i: usize, signature: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "paid", "id": format!("B-{i}"), "price": 1999, "currency": "USD",
        "email": "bench@example.com", "payment_type": "card", "date": 1_763_900_000 + i as i64,
        "items": [{"product_id": "1", "product_name": "Bench Product", "quantity": "1"}],
        "signature": signature
    }))
    .unwrap_or_default()
}

/// A `Vm…` line of a process's status file, in KiB.
fn status_kib(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn count_sales(database_url: &str) -> i64 {
    let store = Store::connect(database_url)
        .await
        .expect("the bot's database");
    let sales = store.table_counts().await.map(|c| c.sales).unwrap_or(0);
    store.close().await;
    sales
}

/// Waits until `n` notices reached the Discord double; how long that took.
async fn drain(discord: &discord::FakeDiscord, n: usize) -> Duration {
    let started = Instant::now();
    discord
        .wait_until(Duration::from_secs(600), |d| d.sale_ids().len() >= n)
        .await;
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn start(
    dir: &std::path::Path,
    discord: &discord::FakeDiscord,
    channel: Option<u64>,
) -> app::Running {
    let mut config = Config::default();
    config.webhook_config.bind_address = [127, 0, 0, 1].into();
    config.webhook_config.webhook_port = 0;
    config.discord_config.sales_channel_id = channel;
    let mut env = Environment::default();
    env.secrets.payhip_api_key = Some(Secret::new(KEY));
    env.secrets.discord_token = Some(Secret::new("bench-token"));
    env.discord_api_base = Some(discord.base());
    env.database_url = Some(format!("sqlite://{}", dir.join("bench.db").display()));
    app::start(Settings::resolve(config, env, None))
        .await
        .expect("app starts")
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    // `--intake`: the saturated intake figures only (to compare builds with BOT_BINARY).
    let intake_only = std::env::args().any(|a| a == "--intake");
    // `--burst`: the launch against Discord's rate limit only.
    let burst_only = std::env::args().any(|a| a == "--burst");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if burst_only {
        let signature = hex::encode(sha2::Sha256::digest(KEY.as_bytes()));
        rt.block_on(launch(quick, &signature));
        return;
    }
    rt.block_on(run(quick, intake_only));
}

/// 1,000 sales in a minute (300 in 18 s with `--quick`) to a rate-limited channel.
async fn launch(quick: bool, signature: &str) {
    let (n, seconds) = if quick { (300, 18.0) } else { (1_000, 60.0) };
    // Ids of their own, past any other run's.
    let numbers = 5_000_000..5_000_000 + n;
    let requests: Vec<Vec<u8>> = numbers
        .clone()
        .map(|i| load::request("/webhook/payhip", &payload(i, signature)))
        .collect();
    let ids = numbers.map(|i| format!("B-{i}")).collect();
    let requests = Arc::new(requests);
    burst::launch(requests, ids, seconds).await;
}

async fn run(quick: bool, intake_only: bool) {
    let signature = hex::encode(sha2::Sha256::digest(KEY.as_bytes()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let rounds = 3;
    let mut first = 0;
    let mut sales = |n: usize| {
        let requests: Vec<Vec<u8>> = (first..first + n)
            .map(|i| load::request("/webhook/payhip", &payload(i, &signature)))
            .collect();
        first += n;
        Arc::new(requests)
    };

    // 1. Saturated durable intake, the bot in its own process, notices off: every 200 is a
    //    committed (fsynced) event.
    for conns in [64, 8] {
        let n = match (quick, conns) {
            (true, 64) => 10_000,
            (true, _) => 4_000,
            (false, 64) => 40_000,
            (false, _) => 15_000,
        };
        let mut rates = Vec::new();
        let mut p99s = Vec::new();
        let mut peak = 0;
        for _ in 0..rounds {
            let discord = discord::FakeDiscord::start().await;
            let bot = outside::Bot::start(&discord.base(), None);
            let requests = sales(n);
            let mut outcome = load::saturate(bot.addr, requests, conns).await;
            assert_eq!(outcome.failed, 0, "every signed sale answered 200");
            rates.push(outcome.rate());
            p99s.push(outcome.percentile(0.99));
            peak = peak.max(bot.peak_rss_kib());
            let stored = count_sales(&bot.database_url).await;
            assert_eq!(stored, n as i64, "every 200 is a stored sale");
            bot.stop();
        }
        rates.sort_by(f64::total_cmp);
        p99s.sort();
        println!(
            "durable intake at {conns} connections: min {:.0} / median {:.0} / max {:.0} webhooks/s \
             over {rounds} rounds of {n} (latency p99 median {:.2} ms, peak RSS {peak} KiB)",
            rates[0],
            rates[rounds / 2],
            rates[rounds - 1],
            p99s[rounds / 2].as_secs_f64() * 1e3,
        );
    }

    if intake_only {
        return;
    }

    // 2. A steady 1,000 webhooks/s with every sale announced to a healthy Discord double.
    {
        let discord = discord::FakeDiscord::start().await;
        let bot = outside::Bot::start(&discord.base(), Some(42));
        let seconds = if quick { 5 } else { 15 };
        let requests = sales(1_000 * seconds);
        let n = requests.len();
        let mut outcome = load::paced(bot.addr, requests, 1_000.0, 32).await;
        let posted_during = discord.sale_ids().len();
        let drained = drain(&discord, n).await;
        println!(
            "steady 1,000 webhooks/s for {seconds} s, notices on: p50 {:.2} ms, p99 {:.2} ms \
             ({} of {n} answered 200); {:.0} notices/s reached Discord during the run, \
             the last {:.1} s after it (peak RSS {} KiB)",
            outcome.percentile(0.50).as_secs_f64() * 1e3,
            outcome.percentile(0.99).as_secs_f64() * 1e3,
            outcome.ok,
            posted_during as f64 / outcome.elapsed.as_secs_f64(),
            drained.as_secs_f64(),
            bot.peak_rss_kib(),
        );
        bot.stop();
    }

    // 3. Saturation with notices on: does delivery keep up, and how long until all are out.
    {
        let discord = discord::FakeDiscord::start().await;
        let bot = outside::Bot::start(&discord.base(), Some(42));
        let n = if quick { 20_000 } else { 100_000 };
        let outcome = load::saturate(bot.addr, sales(n), 64).await;
        let posted_during = discord.sale_ids().len();
        let drained = drain(&discord, outcome.ok).await;
        println!(
            "saturated intake with notices on: {:.0} webhooks/s for {:.1} s; {:.0} notices/s \
             reached Discord meanwhile, the last {:.1} s after the load ended",
            outcome.rate(),
            outcome.elapsed.as_secs_f64(),
            posted_during as f64 / outcome.elapsed.as_secs_f64(),
            drained.as_secs_f64(),
        );
        bot.stop();
    }

    // 4. A launch against Discord's per-channel limit.
    launch(quick, &signature).await;

    // 3. Webhook 200 to the POST reaching a healthy Discord.
    {
        let discord = discord::FakeDiscord::start().await;
        let dir = tempfile::tempdir().expect("tmp");
        let running = start(dir.path(), &discord, Some(42)).await;
        let url = format!("http://{}/webhook/payhip", running.addr);
        let n = if quick { 100 } else { 300 };
        let mut answered = Vec::with_capacity(n);
        for i in 0..n {
            let r = client
                .post(&url)
                .body(payload(2_000_000 + i, &signature))
                .send()
                .await;
            assert!(matches!(r, Ok(ref r) if r.status() == 200));
            answered.push(Instant::now());
            discord
                .wait_for_messages(i + 1, Duration::from_secs(30))
                .await;
        }
        let posted = discord.messages();
        let mut delays: Vec<Duration> = posted
            .iter()
            .zip(&answered)
            .map(|(p, a)| p.at.saturating_duration_since(*a))
            .collect();
        delays.sort();
        println!(
            "webhook-to-Discord delivery: median {:.2} ms, p99 {:.2} ms ({n} notices, one at a time)",
            percentile(&delays, 0.5).as_secs_f64() * 1e3,
            percentile(&delays, 0.99).as_secs_f64() * 1e3
        );
        let _ = running.stop().await;
    }

    // 4. /stats over a long history.
    {
        let dir = tempfile::tempdir().expect("tmp");
        let url = format!("sqlite://{}", dir.path().join("history.db").display());
        let store = Store::connect(&url).await.expect("db");
        let total: i64 = if quick { 100_000 } else { 1_000_000 };
        let start_ms = 1_672_531_200_000i64; // 2023-01-01
        let span = 3 * 365 * 24 * 3_600_000i64;
        let loaded = Instant::now();
        let mut i = 0;
        while i < total {
            let batch: Vec<NewEvent> = (i..(i + 5_000).min(total))
                .map(|k| history_sale(k, start_ms + span / total * k))
                .collect();
            let refs: Vec<&NewEvent> = batch.iter().collect();
            store.insert_batch(&refs).await.expect("insert");
            i += 5_000;
        }
        let load_secs = loaded.elapsed().as_secs_f64();
        let now = chrono::DateTime::from_timestamp_millis(start_ms + span).unwrap_or_default();
        for name in ["all", "year", "month"] {
            let period =
                Period::resolve(Some(name), None, None, now, chrono_tz::Tz::UTC).expect("period");
            let _ = stats::report(&store, &period, &Filter::default(), chrono_tz::Tz::UTC).await; // warm
            let mut times = Vec::new();
            for _ in 0..5 {
                let t = Instant::now();
                let report = stats::report(&store, &period, &Filter::default(), chrono_tz::Tz::UTC)
                    .await
                    .expect("report");
                times.push(t.elapsed());
                assert!(
                    name != "all"
                        || report.currencies.iter().map(|c| c.sales).sum::<i64>() == total
                );
            }
            times.sort();
            println!(
                "/stats period:{name} over {total} stored sales: median {:.1} ms (history loaded in {load_secs:.0} s)",
                percentile(&times, 0.5).as_secs_f64() * 1e3
            );
        }
        store.close().await;
    }
}

fn history_sale(k: i64, at_ms: i64) -> NewEvent {
    let currency = ["USD", "EUR", "GBP"][(k % 3) as usize];
    let event = Event {
        provider: if k % 4 == 0 { "xsolla" } else { "payhip" }.into(),
        event_type: "paid".into(),
        kind: EventKind::Sale,
        idempotency_key: format!("paid:H{k}"),
        external_id: format!("H{k}"),
        occurred_at: chrono::DateTime::from_timestamp_millis(at_ms).unwrap_or_default(),
        test: false,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail: Detail::Sale(Sale {
            total: Money::new(500 + k % 5_000, currency),
            fees_minor: Some(50),
            items: vec![Item {
                product_id: None,
                name: format!("Product {}", k % 40),
                quantity: 1,
                variant: None,
                on_sale: false,
                amount_minor: None,
                ..Default::default()
            }],
            coupons: vec![],
            payment_method: None,
            vat_applied: None,
            transaction_id: None,
            ..Default::default()
        }),
    };
    NewEvent {
        raw: Value::Null.to_string(),
        received_at: event.occurred_at,
        destinations: vec![],
        not_counted: None,
        event,
    }
}
