//! The real binary, as a seller runs it: kill it, restart it, and nothing acknowledged is lost.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use integrations_bot::db::Store;

use crate::support::*;

struct Bot {
    child: Child,
    base: String,
}

/// Starts the binary and waits for its "listening on" log line (no sleeping).
fn spawn_bot(dir: &Path) -> Bot {
    let mut child = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .arg("--config")
        .arg(dir.join("config.json"))
        .arg("run")
        .env("PAYHIP_API_KEY", PAYHIP_KEY)
        .env("DATABASE_URL", sqlite_url(dir))
        .env("RUST_LOG", "info")
        .env_remove("DISCORD_TOKEN")
        .env_remove("BOT_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stderr = child.stderr.take().expect("stderr piped");
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("bot printed 'listening on' before exiting")
            .expect("utf-8 log");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_owned();
        }
    };
    // Keep draining the log so the bot never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Bot {
        child,
        base: format!("http://{addr}"),
    }
}

fn write_config(dir: &Path) {
    std::fs::write(
        dir.join("config.json"),
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" },
             "discordConfig": { "salesChannelId": "42" } }"#,
    )
    .unwrap();
}

#[tokio::test]
async fn acknowledged_events_survive_kill_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path());
    let mut bot = spawn_bot(dir.path());
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

    let mut bot = spawn_bot(dir.path());
    let store = Store::connect(&sqlite_url(dir.path())).await.unwrap();
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
    write_config(dir.path());
    let mut bot = spawn_bot(dir.path());
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(bot.child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let exit = bot.child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn check_config_names_the_bad_path_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        r#"{ "embedColors": { "newSale": "green" }, "webhookConfig": { "webhookPort": -1 } }"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("embedColors.newSale"), "{text}");
    assert!(text.contains("webhookConfig.webhookPort"), "{text}");

    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config.json.example"),
        &path,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
