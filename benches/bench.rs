//! The numbers behind docs/performance.md: the real app on a temporary SQLite database with a
//! fake Discord, driven over loopback. Run with `cargo bench --bench bench` (add `-- --quick` for
//! a smaller run). Prints one line per figure.

#[path = "../tests/support/discord.rs"]
#[allow(dead_code)]
mod discord;

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

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(quick));
}

async fn run(quick: bool) {
    let signature = hex::encode(sha2::Sha256::digest(KEY.as_bytes()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let idle_before = rss_kib("VmRSS:");

    // 1. Durable intake throughput: every 200 is a committed (fsynced) event.
    {
        let discord = discord::FakeDiscord::start().await;
        let dir = tempfile::tempdir().expect("tmp");
        let running = start(dir.path(), &discord, None).await;
        let idle = rss_kib("VmRSS:");
        let url = format!("http://{}/webhook/payhip", running.addr);
        let total = if quick { 5_000 } else { 30_000 };
        let concurrency = 128;
        let bodies: Arc<Vec<Vec<u8>>> =
            Arc::new((0..total).map(|i| payload(i, &signature)).collect());
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let (client, url, bodies, next) = (
                client.clone(),
                url.clone(),
                Arc::clone(&bodies),
                Arc::clone(&next),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let r = client.post(&url).body(body.clone()).send().await;
                    assert!(
                        matches!(r, Ok(ref r) if r.status() == 200),
                        "intake failed: {r:?}"
                    );
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let secs = started.elapsed().as_secs_f64();
        let peak = rss_kib("VmHWM:");
        let stored = running
            .state
            .store()
            .table_counts()
            .await
            .map(|c| c.sales)
            .unwrap_or(0);
        assert_eq!(stored, total as i64);
        println!("durable intake throughput: {:.0} webhooks/s ({total} signed webhooks, concurrency {concurrency}, SQLite synchronous=FULL)", total as f64 / secs);
        println!(
            "idle RSS after start: {} KiB (process before start: {idle_before} KiB)",
            idle
        );
        println!("peak RSS under load: {peak} KiB (app and load generator in one process)");
        let _ = running.stop().await;
    }

    // 2. Latency at a steady 1,000 requests per second.
    {
        let discord = discord::FakeDiscord::start().await;
        let dir = tempfile::tempdir().expect("tmp");
        let running = start(dir.path(), &discord, None).await;
        let url = format!("http://{}/webhook/payhip", running.addr);
        let total = if quick { 2_000 } else { 10_000 };
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut handles = Vec::with_capacity(total);
        for i in 0..total {
            tick.tick().await;
            let (client, url, body) = (
                client.clone(),
                url.clone(),
                payload(1_000_000 + i, &signature),
            );
            handles.push(tokio::spawn(async move {
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status() == 200)
                    .unwrap_or(false);
                (ok, t.elapsed())
            }));
        }
        let mut latencies = Vec::with_capacity(total);
        for h in handles {
            if let Ok((true, d)) = h.await {
                latencies.push(d);
            }
        }
        latencies.sort();
        println!(
            "latency at 1,000 req/s: p50 {:.2} ms, p99 {:.2} ms ({} of {total} answered 200)",
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            latencies.len()
        );
        let _ = running.stop().await;
    }

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
