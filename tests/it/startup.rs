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
async fn start_up_prints_the_url_to_paste_into_the_store_and_the_local_address() {
    // The earlier bot kept the whole Payhip URL in webhookURL; its path is not doubled.
    let (_bot, log, _dir) = start(
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1",
                                "webhookURL": "https://sales.example.com/webhook/payhip" },
             "discordConfig": { "salesChannelId": "42" } }"#,
    )
    .await;
    assert!(
        log.contains(
            "public webhook URL for Payhip: https://sales.example.com/webhook/payhip (paste it into Payhip's webhook settings)"
        ),
        "{log}"
    );
    assert!(
        !log.contains("webhook URL for Xsolla"),
        "Xsolla has no secret here: not set up\n{log}"
    );
    assert!(log.contains("webhook endpoint: http://127.0.0.1:"), "{log}");
    assert!(log.contains("listening on 127.0.0.1:"), "{log}");
}

#[tokio::test]
async fn a_misspelt_key_is_warned_about_and_the_bot_still_starts_and_says_how_to_get_its_url() {
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
        log.contains("public webhook URL not known: set webhookConfig.webhookURL to the address stores reach this bot at"),
        "without webhookURL, how to get the URL: {log}"
    );
    assert!(
        line.contains(
            "discordConfig.salesChanelId: unknown key; did you mean salesChannelId? (ignored; `integrations-bot check-config` fails on it)"
        ),
        "{line}"
    );
}
