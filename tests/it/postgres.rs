//! Several instances on one PostgreSQL database: no double posts, nothing lost when one dies.
//! Run with `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo test -- --include-ignored`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use integrations_bot::db::Store;
use serde_json::Value;

use crate::process::{kill, Setup};
use crate::support::*;

const WEBHOOKS: usize = 500;

fn sale(i: usize) -> Vec<u8> {
    let mut v = fixture("payhip/paid.json");
    v["id"] = Value::String(format!("TX-{i:04}"));
    v["signature"] = Value::String(payhip_signature(PAYHIP_KEY));
    serde_json::to_vec(&v).unwrap()
}

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
                    .body(sale(i))
                    .send(),
                client
                    .post(format!("{b_base}/webhook/payhip"))
                    .body(sale(i))
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
                    .body(sale(i))
                    .send()
                    .await
                {
                    Ok(r) => r.status() == 200,
                    Err(_) => false,
                };
                if !ok {
                    let r = client
                        .post(format!("{b_base}/webhook/payhip"))
                        .body(sale(i))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                }
            }
        });
        sends.buffer_unordered(16).collect::<Vec<_>>().await;
    }

    let posted = discord
        .wait_for_messages(WEBHOOKS, Duration::from_secs(90))
        .await;
    let store = Store::connect(url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.outbox_counts().await.unwrap().pending > 0 {
        assert!(Instant::now() < deadline, "notices still pending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.delivered, counts.dead), (WEBHOOKS as i64, 0));
    assert_eq!(store.table_counts().await.unwrap().sales, WEBHOOKS as i64);
    let all = discord.messages();
    let ids: HashSet<String> = all
        .iter()
        .map(|m| m.body["embeds"][0]["fields"].to_string())
        .collect();
    assert_eq!(
        all.len(),
        WEBHOOKS,
        "no notice posted twice ({} received)",
        posted.len()
    );
    assert_eq!(ids.len(), WEBHOOKS, "every sale announced");
    store.close().await;
    kill(b);
}
