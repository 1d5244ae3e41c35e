//! The real binary and the outbox: a refused bot token named at start-up, and kill -9 while posts
//! to a webhook URL are waiting for slow answers.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use integrations_bot::db::Store;

use crate::outbox_steps::{hook, HOOK};
use crate::process::{kill, spawn_bot_with, Bot};
use crate::support::discord::{FakeDiscord, Scripted, Target};
use crate::support::*;

/// Sales announced in a channel and at a webhook URL. `lease` in seconds, if not the default.
pub(crate) fn write_webhook_config(dir: &Path, lease: Option<u64>) {
    let lease = lease.map_or_else(String::new, |s| format!(r#", "leaseSeconds": {s}"#));
    std::fs::write(
        dir.join("config.json"),
        format!(
            r#"{{ "webhookConfig": {{ "webhookPort": 0, "bindAddress": "127.0.0.1" }},
                 "discordConfig": {{ "salesChannelId": "42" }},
                 "notifications": {{ "newSale": {{ "webhookUrls": ["{HOOK}"] }} }},
                 "delivery": {{ "initialBackoffMs": 100, "maxBackoffMs": 1000{lease} }} }}"#
        ),
    )
    .unwrap();
}

pub(crate) fn spawn(discord: &FakeDiscord, dir: &Path, url: &str) -> Bot {
    let base = discord.base();
    let env = [
        ("DISCORD_TOKEN", "fake-token"),
        ("DISCORD_API_BASE", base.as_str()),
    ];
    spawn_bot_with(dir, url, &env)
}

/// How many times each sale reached `target`.
pub(crate) fn copies(discord: &FakeDiscord, target: &Target) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for id in discord.sale_ids_to(target) {
        *out.entry(id).or_default() += 1;
    }
    out
}

pub(crate) async fn wait_until_settled(url: &str, timeout: Duration) {
    let store = Store::connect(url).await.unwrap();
    settled(&store, timeout).await;
    assert_eq!(store.outbox_counts().await.unwrap().dead, 0);
    store.close().await;
}

#[tokio::test]
async fn a_bot_token_discord_refuses_is_named_at_start_up() {
    let discord = FakeDiscord::start().await;
    discord.set_token_refused(true);
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_webhook_config(dir.path(), None);
    let bot = spawn(&discord, dir.path(), &url);
    let deadline = Instant::now() + Duration::from_secs(20);
    let line = loop {
        let output = bot.output.lock().unwrap().clone();
        if let Some(line) = output.lines().find(|l| l.contains("refuses the bot token")) {
            break line.to_owned();
        }
        assert!(Instant::now() < deadline, "no start-up line: {output}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        line.contains("ERROR") && line.contains("DISCORD_TOKEN"),
        "{line}"
    );
    assert!(!line.contains("fake-token"), "{line}");
    kill(bot);
}

#[tokio::test]
async fn kill_9_while_webhook_posts_wait_for_slow_answers_doubles_nothing() {
    const SALES: usize = 80;
    // Each answer is held this long, so the kill lands while one is outstanding; long enough
    // that a loaded machine still kills within it.
    const HELD: Duration = Duration::from_millis(600);
    let discord = FakeDiscord::start().await;
    discord.script_for(hook(), (0..SALES).map(|_| Scripted::Delay(HELD)));
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_webhook_config(dir.path(), None);
    let bot = spawn(&discord, dir.path(), &url);
    let client = reqwest::Client::new();
    for i in 0..SALES {
        let r = client
            .post(format!("{}/webhook/payhip", bot.base))
            .body(payhip_sale(&format!("W-{i:03}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // Killed while a webhook post has reached Discord and its answer is held back.
    discord
        .wait_for_messages_to(&hook(), 3, Duration::from_secs(30))
        .await;
    let mut bot = bot;
    bot.child.kill().unwrap();
    let in_flight = discord
        .messages_to(&hook())
        .last()
        .map(|m| m.at.elapsed())
        .expect("a webhook post");
    bot.child.wait().unwrap();
    assert!(
        in_flight < HELD,
        "killed mid-post ({in_flight:?} after it reached Discord)"
    );

    let bot = spawn(&discord, dir.path(), &url);
    wait_until_settled(&url, Duration::from_secs(60)).await;
    kill(bot);
    let got = copies(&discord, &hook());
    assert_eq!(got.len(), SALES, "every sale reached the webhook URL");
    let doubled: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "posted twice: {doubled:?}");
    assert_eq!(copies(&discord, &Target::Channel(42)).len(), SALES);
}
