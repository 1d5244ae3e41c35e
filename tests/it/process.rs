//! The real binary, as a seller runs it: kill it, restart it, and nothing acknowledged is lost.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use integrations_bot::db::Store;

use crate::support::discord::{FakeDiscord, Scripted};
use crate::support::*;

pub(crate) struct Bot {
    pub(crate) child: Child,
    pub(crate) base: String,
    /// Everything the bot printed (logs and previews).
    pub(crate) output: std::sync::Arc<std::sync::Mutex<String>>,
}

/// Starts the binary and waits for its "listening on" log line (no sleeping).
fn spawn_bot(dir: &Path, database_url: &str) -> Bot {
    spawn_bot_with(dir, database_url, &[])
}

pub(crate) fn spawn_bot_with(dir: &Path, database_url: &str, env: &[(&str, &str)]) -> Bot {
    spawn_bot_command(dir, database_url, env, |_| {})
}

/// As [`spawn_bot_with`], with a last say on the command (resource limits, say).
pub(crate) fn spawn_bot_command(
    dir: &Path,
    database_url: &str,
    env: &[(&str, &str)],
    customize: impl FnOnce(&mut Command),
) -> Bot {
    let mut command = Command::new(env!("CARGO_BIN_EXE_integrations-bot"));
    customize(&mut command);
    if !env.iter().any(|(k, _)| *k == "DISCORD_TOKEN") {
        command.env_remove("DISCORD_TOKEN").env_remove("BOT_TOKEN");
    }
    let mut child = command
        .envs(env.iter().copied())
        .arg("--config")
        .arg(dir.join("config.json"))
        .arg("run")
        .env("PAYHIP_API_KEY", PAYHIP_KEY)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let stderr = child.stderr.take().expect("stderr piped");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("bot printed 'listening on' before exiting")
            .expect("utf-8 log");
        push(&output, &line);
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_owned();
        }
    };
    // Keep draining both streams so the bot never blocks on a full pipe, and keep what it said.
    let log = std::sync::Arc::clone(&output);
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(|l| push(&log, &l)));
    let log = std::sync::Arc::clone(&output);
    std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| push(&log, &l))
    });
    Bot {
        child,
        base: format!("http://{addr}"),
        output,
    }
}

fn push(output: &std::sync::Mutex<String>, line: &str) {
    if let Ok(mut o) = output.lock() {
        o.push_str(line);
        o.push('\n');
    }
}

pub(crate) fn write_config(dir: &Path) {
    std::fs::write(
        dir.join("config.json"),
        // A short lease: on PostgreSQL a dead instance's claims are taken over only when it ends.
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" },
             "discordConfig": { "salesChannelId": "42" },
             "delivery": { "leaseSeconds": 2, "initialBackoffMs": 100, "maxBackoffMs": 1000 } }"#,
    )
    .unwrap();
}

#[tokio::test]
async fn acknowledged_events_survive_kill_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_config(dir.path());
    let mut bot = spawn_bot(dir.path(), &url);
    let client = reqwest::Client::new();
    for name in PAYHIP_EVENTS {
        let res = client
            .post(format!("{}/webhook/payhip", bot.base))
            .body(payhip_signed(name))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{name}");
    }
    bot.child.kill().unwrap(); // SIGKILL: no chance to flush anything
    bot.child.wait().unwrap();

    let mut bot = spawn_bot(dir.path(), &url);
    let store = Store::connect(&url).await.unwrap();
    let counts = store.table_counts().await.unwrap();
    assert_eq!(
        (
            counts.events,
            counts.sales,
            counts.refunds,
            counts.subscriptions
        ),
        (4, 1, 1, 1)
    );
    let res = client
        .post(format!("{}/webhook/payhip", bot.base))
        .body(payhip_signed("paid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        store.table_counts().await.unwrap().events,
        4,
        "the retry after restart is a duplicate"
    );
    store.close().await;
    bot.child.kill().unwrap();
    bot.child.wait().unwrap();
}

#[tokio::test]
async fn sigterm_stops_cleanly_with_exit_code_zero() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_config(dir.path());
    let mut bot = spawn_bot(dir.path(), &url);
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(bot.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = bot.child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
}

async fn post_all(bot: &Bot, names: &[&str]) {
    let client = reqwest::Client::new();
    for name in names {
        let res = client
            .post(format!("{}/webhook/payhip", bot.base))
            .body(payhip_signed(name))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{name}");
    }
}

/// A bot process pointed at its own fake Discord, on a fresh database, with the test config.
pub(crate) struct Setup {
    pub(crate) discord: FakeDiscord,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) url: String,
}

impl Setup {
    pub(crate) async fn new() -> Setup {
        let discord = FakeDiscord::start().await;
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database_url(dir.path()).await;
        write_config(dir.path());
        Setup { discord, dir, url }
    }

    /// Starts (another) bot process on this setup's database and fake Discord.
    pub(crate) fn spawn(&self) -> Bot {
        let base = self.discord.base();
        let env = [
            ("DISCORD_TOKEN", "fake-token"),
            ("DISCORD_API_BASE", base.as_str()),
        ];
        spawn_bot_with(self.dir.path(), &self.url, &env)
    }
}

pub(crate) fn kill(mut bot: Bot) {
    bot.child.kill().unwrap();
    bot.child.wait().unwrap();
}

#[tokio::test]
async fn notices_pending_when_the_process_dies_are_delivered_once_after_restart() {
    let setup = Setup::new().await;
    let discord = &setup.discord;

    discord.set_down(true);
    let bot = setup.spawn();
    post_all(&bot, &["paid"]).await;
    discord
        .wait_for_requests(1, std::time::Duration::from_secs(20))
        .await;
    kill(bot);

    discord.set_down(false);
    let bot = setup.spawn();
    let posted = discord
        .wait_for_messages(1, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(posted[0].body["embeds"][0]["title"], "New Sale Completed");
    kill(bot);
    assert_eq!(discord.messages().len(), 1);
}

#[tokio::test]
async fn a_post_whose_answer_was_lost_is_not_posted_twice_after_restart() {
    let setup = Setup::new().await;
    let (discord, url) = (&setup.discord, &setup.url);

    // Discord takes the message but the bot dies before the answer arrives.
    discord.script([Scripted::Delay(std::time::Duration::from_secs(5))]);
    let bot = setup.spawn();
    post_all(&bot, &["paid"]).await;
    discord
        .wait_for_messages(1, std::time::Duration::from_secs(20))
        .await;
    kill(bot);

    let bot = setup.spawn();
    // The restarted bot posts the row again with the same nonce; Discord answers with the
    // existing message instead of creating a second one.
    discord
        .wait_for_requests(2, std::time::Duration::from_secs(20))
        .await;
    let store = Store::connect(url).await.unwrap();
    eventually("the row to be marked delivered", WAIT, || {
        let store = store.clone();
        async move { store.outbox_counts().await.is_ok_and(|c| c.delivered == 1) }
    })
    .await;
    store.close().await;
    kill(bot);
    assert_eq!(discord.messages().len(), 1);
}

#[tokio::test]
async fn no_secret_or_buyer_email_reaches_the_output() {
    const TOKEN: &str = "MTIz.discord-token-SECRET-value";
    const HOOK_TOKEN: &str = "webhook-token-SECRET-value";
    let discord = FakeDiscord::start().await;
    let base = discord.base();
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    std::fs::write(
        dir.path().join("config.json"),
        format!(
            r#"{{ "webhookConfig": {{ "webhookPort": 0, "bindAddress": "127.0.0.1" }},
                 "discordConfig": {{ "salesChannelId": "42" }},
                 "notifications": {{ "newSale": {{ "message": "%user% bought", "webhookUrls": ["https://discord.com/api/webhooks/555/{HOOK_TOKEN}"] }} }},
                 "privacy": {{ "showCustomer": true }} }}"#
        ),
    )
    .unwrap();
    let env = [
        ("DISCORD_TOKEN", TOKEN),
        ("DISCORD_API_BASE", base.as_str()),
        ("XSOLLA_SECRET_KEY", XSOLLA_SECRET),
    ];
    // A 403 on the webhook URL makes the bot log a dead-letter reason about it.
    discord.script([Scripted::Status(403)]);
    let mut bot = spawn_bot_with(dir.path(), &url, &env);
    post_all(&bot, &["paid", "refunded", "subscription_created"]).await;
    let client = reqwest::Client::new();
    let mut forged = fixture("payhip/paid.json");
    forged["signature"] = serde_json::json!("0000");
    client
        .post(format!("{}/webhook/payhip", bot.base))
        .json(&forged)
        .send()
        .await
        .unwrap();
    discord
        .wait_for_requests(2, std::time::Duration::from_secs(20))
        .await;
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(bot.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    bot.child.wait().unwrap();
    let output = bot.output.lock().unwrap().clone();
    assert!(
        output.contains("webhook accepted"),
        "the log is captured: {output}"
    );
    for secret in [
        TOKEN,
        HOOK_TOKEN,
        PAYHIP_KEY,
        &payhip_signature(PAYHIP_KEY),
        XSOLLA_SECRET,
        "buyer.one@example.com",
        "member@example.com",
    ] {
        assert!(
            !output.contains(secret),
            "{secret:?} appeared in the output:\n{output}"
        );
    }
}
