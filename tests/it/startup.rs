//! What the real binary says when it starts: what a seller reads before the first sale.

use crate::flood::Reaped;
use crate::process::spawn_bot_with;
use crate::support::*;

/// Starts the binary on `config` in a fresh folder and returns it with everything it printed up
/// to its "listening on" line.
async fn start(config: &str) -> (Reaped, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    std::fs::write(dir.path().join("config.json"), config).unwrap();
    let bot = Reaped(spawn_bot_with(dir.path(), &url, &[]));
    let log = bot.output.lock().unwrap().clone();
    (bot, log, dir)
}

#[tokio::test]
async fn a_misspelt_key_is_warned_about_and_the_bot_still_starts() {
    let (_bot, log, _dir) = start(
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" },
             "discordConfig": { "salesChanelId": "42" } }"#,
    )
    .await;
    let line = log
        .lines()
        .find(|l| l.contains("discordConfig.salesChanelId"))
        .unwrap_or_else(|| panic!("no warning in:\n{log}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains(
            "discordConfig.salesChanelId: unknown key; did you mean salesChannelId? (ignored; `integrations-bot check-config` fails on it)"
        ),
        "{line}"
    );
}
