//! Faults a seller will meet: the process killed mid-burst, a flaky and then absent Discord,
//! a stop under load. Nothing acknowledged may be lost, nothing announced twice.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use integrations_bot::db::Store;
use rand::Rng;

use crate::process::{kill, spawn_bot_with, write_config, Setup};
use crate::support::discord::{FakeDiscord, Scripted};
use crate::support::*;

/// Ids of the sales Discord received, with how often each arrived.
fn announced(discord: &FakeDiscord) -> Vec<String> {
    discord.sale_ids()
}

/// Waits until Discord has announced `n` sales, in any form.
async fn wait_for_announced(discord: &FakeDiscord, n: usize, timeout: Duration) {
    let reached = discord
        .wait_until(timeout, |d| announced(d).len() >= n)
        .await;
    assert!(
        reached.is_some(),
        "expected {n} sales announced within {timeout:?}, got {}",
        announced(discord).len()
    );
}

/// Sends every id to `base` with some concurrency; returns the ids answered 200.
async fn send_all(
    base: &str,
    ids: &[String],
    stop_after: Option<(usize, Arc<tokio::sync::Notify>)>,
) -> BTreeSet<String> {
    let client = reqwest::Client::new();
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    futures_util::stream::iter(ids.iter().cloned())
        .map(|id| {
            let (client, acked, stop_after) =
                (client.clone(), Arc::clone(&acked), stop_after.clone());
            let url = format!("{base}/webhook/payhip");
            async move {
                if let Ok(r) = client.post(url).body(payhip_sale(&id)).send().await {
                    if r.status() == 200 {
                        let n = {
                            let mut a = acked.lock().unwrap();
                            a.insert(id);
                            a.len()
                        };
                        if let Some((at, notify)) = stop_after {
                            if n == at {
                                notify.notify_one();
                            }
                        }
                    }
                }
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let out = acked.lock().unwrap().clone();
    out
}

#[tokio::test]
async fn kill_9_mid_burst_loses_nothing_and_doubles_nothing() {
    let setup = Setup::new().await;
    let (discord, url) = (&setup.discord, &setup.url);
    let ids: Vec<String> = (0..1000).map(|i| format!("K-{i:04}")).collect();
    let kill_at = seeded_rng("kill -9 mid-burst").gen_range(100..900);

    let bot = setup.spawn();
    let killer = Arc::new(tokio::sync::Notify::new());
    let pid = bot.child.id();
    let k = Arc::clone(&killer);
    let kill_task = tokio::spawn(async move {
        k.notified().await;
        std::process::Command::new("kill")
            .arg("-9")
            .arg(pid.to_string())
            .status()
            .unwrap();
    });
    let first = send_all(&bot.base, &ids, Some((kill_at, killer))).await;
    kill_task.await.unwrap();
    kill(bot);
    assert!(
        first.len() >= kill_at && first.len() < ids.len(),
        "killed mid-burst ({} acked)",
        first.len()
    );

    // The store retries what was not acknowledged; the bot comes back.
    let bot = setup.spawn();
    let rest: Vec<String> = ids
        .iter()
        .filter(|i| !first.contains(*i))
        .cloned()
        .collect();
    let second = send_all(&bot.base, &rest, None).await;
    assert_eq!(
        first.len() + second.len(),
        ids.len(),
        "every webhook acknowledged once it was retried"
    );

    wait_for_announced(discord, ids.len(), Duration::from_secs(120)).await;
    let store = Store::connect(url).await.unwrap();
    assert_eq!(store.table_counts().await.unwrap().sales, ids.len() as i64);
    store.close().await;
    kill(bot);
    let got = announced(discord);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(got.len(), ids.len(), "no sale announced twice");
    assert_eq!(unique.len(), ids.len(), "every sale announced");
}

#[tokio::test]
async fn a_flaky_then_absent_discord_still_gets_every_notice_once() {
    let discord = FakeDiscord::start().await;
    let mut rng = seeded_rng("flaky Discord script");
    let script: Vec<Scripted> = (0..600)
        .map(|_| match rng.gen_range(0..10) {
            0 => Scripted::RateLimited { retry_after: 0.05 },
            1 => Scripted::Status(500),
            2 => Scripted::Status(502),
            _ => Scripted::Ok,
        })
        .collect();
    discord.script(script);
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(42);
        c.delivery.initial_backoff_ms = 50;
        c.delivery.max_backoff_ms = 2_000;
        c.delivery.max_attempts = 1_000;
        c.delivery.lease_seconds = 15;
    })
    .await;
    let ids: Vec<String> = (0..300).map(|i| format!("F-{i:03}")).collect();
    for id in &ids[..150] {
        assert_eq!(app.post("/webhook/payhip", payhip_sale(id)).await.0, 200);
    }
    wait_for_announced(&discord, 20, Duration::from_secs(60)).await;
    // Discord goes away for 30 seconds while sales keep coming.
    discord.set_down(true);
    for id in &ids[150..] {
        assert_eq!(app.post("/webhook/payhip", payhip_sale(id)).await.0, 200);
    }
    // Thirty seconds on the app's clock, two at a time (the backoff's cap).
    app.ride_out(&discord, Duration::from_secs(30), Duration::from_secs(2))
        .await;
    discord.set_down(false);
    app.advance(Duration::from_secs(2));
    wait_for_announced(&discord, ids.len(), Duration::from_secs(120)).await;
    let store = app.store().clone();
    settled(&store, Duration::from_secs(30)).await;
    app.stop().await;
    let got = announced(&discord);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(
        (got.len(), unique.len()),
        (ids.len(), ids.len()),
        "100% delivered, none twice"
    );
}

#[tokio::test]
async fn sigterm_under_load_keeps_everything_it_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_config(dir.path());
    let mut bot = spawn_bot_with(dir.path(), &url, &[]);
    let ids: Vec<String> = (0..600).map(|i| format!("T-{i:03}")).collect();
    let stopper = Arc::new(tokio::sync::Notify::new());
    let pid = bot.child.id();
    let s = Arc::clone(&stopper);
    let term = tokio::spawn(async move {
        s.notified().await;
        std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap();
    });
    let acked = send_all(&bot.base, &ids, Some((200, stopper))).await;
    term.await.unwrap();
    let exit = bot.child.wait().unwrap();
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    assert!(acked.len() >= 200);
    let store = Store::connect(&url).await.unwrap();
    let stored: BTreeSet<String> = match &store {
        Store::Sqlite(p) => sqlx::query_scalar("SELECT external_id FROM sales")
            .fetch_all(&**p)
            .await
            .unwrap(),
        Store::Postgres(p) => sqlx::query_scalar("SELECT external_id FROM sales")
            .fetch_all(p)
            .await
            .unwrap(),
    }
    .into_iter()
    .collect();
    store.close().await;
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
}
