//! Several instances on one PostgreSQL database: no double posts, nothing lost when one dies.
//! Run with `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test -- --include-ignored`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use integrations_bot::db::Store;

use crate::outbox_process;
use crate::outbox_steps::hook;
use crate::process::{kill, Setup};
use crate::support::discord::{body_sale_ids, FakeDiscord, Scripted, Target};
use crate::support::*;

const WEBHOOKS: usize = 500;

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://… and pass --include-ignored"]
async fn two_instances_one_killed_midway_post_every_notice_exactly_once() {
    assert!(
        postgres_server().is_some(),
        "TEST_DATABASE_URL must name a PostgreSQL server"
    );
    let setup = Setup::new().await;
    let (discord, url) = (&setup.discord, &setup.url);
    Store::connect(url).await.unwrap().close().await; // migrate once, before both start
    let a = setup.spawn();
    let b = setup.spawn();
    let (a_base, b_base) = (a.base.clone(), b.base.clone());
    let client = reqwest::Client::new();

    // The first 50 go to both instances at once: a retry landing on the other instance.
    let both = futures_util::stream::iter(0..50).map(|i| {
        let client = client.clone();
        let (a_base, b_base) = (a_base.clone(), b_base.clone());
        async move {
            let (ra, rb) = tokio::join!(
                client
                    .post(format!("{a_base}/webhook/payhip"))
                    .body(payhip_sale(&format!("TX-{i:04}")))
                    .send(),
                client
                    .post(format!("{b_base}/webhook/payhip"))
                    .body(payhip_sale(&format!("TX-{i:04}")))
                    .send(),
            );
            assert_eq!(ra.unwrap().status(), 200);
            assert_eq!(rb.unwrap().status(), 200);
        }
    });
    both.buffer_unordered(8).collect::<Vec<_>>().await;

    // The rest alternate; instance A is killed halfway and its share goes to B, as a load
    // balancer would retry.
    let mut a = Some(a);
    for chunk in (50..WEBHOOKS).collect::<Vec<_>>().chunks(50) {
        if chunk[0] >= WEBHOOKS / 2 {
            if let Some(bot) = a.take() {
                kill(bot);
            }
        }
        let a_alive = a.is_some();
        let sends = futures_util::stream::iter(chunk.to_vec()).map(|i| {
            let client = client.clone();
            let first = if a_alive && i % 2 == 0 {
                a_base.clone()
            } else {
                b_base.clone()
            };
            let b_base = b_base.clone();
            async move {
                let ok = match client
                    .post(format!("{first}/webhook/payhip"))
                    .body(payhip_sale(&format!("TX-{i:04}")))
                    .send()
                    .await
                {
                    Ok(r) => r.status() == 200,
                    Err(_) => false,
                };
                if !ok {
                    let r = client
                        .post(format!("{b_base}/webhook/payhip"))
                        .body(payhip_sale(&format!("TX-{i:04}")))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                }
            }
        });
        sends.buffer_unordered(16).collect::<Vec<_>>().await;
    }

    discord
        .wait_for_sales_to(&Target::Channel(42), WEBHOOKS, Duration::from_secs(90))
        .await;
    let store = Store::connect(url).await.unwrap();
    settled(&store, Duration::from_secs(30)).await;
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.delivered, counts.dead), (WEBHOOKS as i64, 0));
    assert_eq!(store.table_counts().await.unwrap().sales, WEBHOOKS as i64);
    let all = discord.sale_ids();
    let ids: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), WEBHOOKS, "no notice posted twice");
    assert_eq!(ids.len(), WEBHOOKS, "every sale announced");
    store.close().await;
    kill(b);
}

/// Sales sent to whichever of the instances is alive, alternating, one every `gap`.
async fn send_alternating(
    bases: [String; 2],
    a_alive: Arc<AtomicBool>,
    ids: Vec<String>,
    gap: Duration,
) {
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(gap);
    for (i, id) in ids.into_iter().enumerate() {
        tick.tick().await;
        let first = if i % 2 == 0 && a_alive.load(Ordering::SeqCst) {
            &bases[0]
        } else {
            &bases[1]
        };
        let ok = match client
            .post(format!("{first}/webhook/payhip"))
            .body(payhip_sale(&id))
            .send()
            .await
        {
            Ok(r) => r.status() == 200,
            Err(_) => false,
        };
        if !ok {
            let r = client
                .post(format!("{}/webhook/payhip", bases[1]))
                .body(payhip_sale(&id))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }
}

fn assert_exactly_once(discord: &FakeDiscord, n: usize) {
    for target in [hook(), Target::Channel(42)] {
        let got = outbox_process::copies(discord, &target);
        let doubled: Vec<_> = got.iter().filter(|(_, c)| **c > 1).collect();
        assert!(
            doubled.is_empty(),
            "posted twice to {target:?}: {doubled:?}"
        );
        assert_eq!(got.len(), n, "every sale reached {target:?}");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://… and pass --include-ignored"]
async fn two_instances_with_discord_slower_than_the_lease_post_each_notice_once() {
    assert!(
        postgres_server().is_some(),
        "TEST_DATABASE_URL must name a PostgreSQL server"
    );
    const N: usize = 40;
    let discord = FakeDiscord::start().await;
    // Each of these answers takes longer than the 2 s lease: only renewal keeps the claim.
    discord.script_for(
        hook(),
        (0..5).map(|_| Scripted::Delay(Duration::from_secs(3))),
    );
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    Store::connect(&url).await.unwrap().close().await;
    outbox_process::write_webhook_config(dir.path(), Some(2));
    let a = outbox_process::spawn(&discord, dir.path(), &url);
    let b = outbox_process::spawn(&discord, dir.path(), &url);
    let ids = (0..N).map(|i| format!("SLOW-{i:02}")).collect();
    let alive = Arc::new(AtomicBool::new(true));
    send_alternating(
        [a.base.clone(), b.base.clone()],
        alive,
        ids,
        Duration::from_millis(5),
    )
    .await;
    outbox_process::wait_until_settled(&url, Duration::from_secs(60)).await;
    kill(a);
    kill(b);
    assert_exactly_once(&discord, N);
    // Renewed leases: no notice was taken over from the live instance posting it, so nothing was
    // ever looked up or tried a second time.
    let requests = discord.requests();
    let hook_posted: usize = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/api/v10/webhooks/555/"))
        .map(|r| body_sale_ids(&r.body).len())
        .sum();
    assert_eq!(hook_posted, N, "each notice in one post only");
    assert!(
        !requests
            .iter()
            .any(|r| r.path.contains("/channels/555/messages")),
        "no takeover needed a lookup"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TEST_DATABASE_URL=postgres://… and pass --include-ignored"]
async fn the_survivor_of_a_kill_9_mid_burst_posts_the_rest_within_30_seconds() {
    assert!(
        postgres_server().is_some(),
        "TEST_DATABASE_URL must name a PostgreSQL server"
    );
    const N: usize = 100;
    let discord = FakeDiscord::start().await;
    discord.script_for(
        hook(),
        (0..N).map(|_| Scripted::Delay(Duration::from_millis(50))),
    );
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    Store::connect(&url).await.unwrap().close().await;
    outbox_process::write_webhook_config(dir.path(), None); // the default 15 s lease
    let a = outbox_process::spawn(&discord, dir.path(), &url);
    let b = outbox_process::spawn(&discord, dir.path(), &url);
    let ids = (0..N).map(|i| format!("SURV-{i:03}")).collect();
    let alive = Arc::new(AtomicBool::new(true));
    let sending = tokio::spawn(send_alternating(
        [a.base.clone(), b.base.clone()],
        Arc::clone(&alive),
        ids,
        Duration::from_millis(30),
    ));
    discord
        .wait_for_sales_to(&hook(), 25, Duration::from_secs(30))
        .await;
    alive.store(false, Ordering::SeqCst);
    kill(a);
    let killed = Instant::now();
    sending.await.unwrap();
    discord
        .wait_for_sales_to(&hook(), N, Duration::from_secs(30))
        .await;
    discord
        .wait_for_sales_to(&Target::Channel(42), N, Duration::from_secs(30))
        .await;
    let took = killed.elapsed();
    outbox_process::wait_until_settled(&url, Duration::from_secs(30)).await;
    kill(b);
    assert!(took < Duration::from_secs(30), "the survivor took {took:?}");
    assert_exactly_once(&discord, N);
}
