//! Hand edits of config.json while the real binary runs: an emptied or broken file is refused and
//! sales keep being announced; a sound edit still applies.

use std::time::{Duration, Instant};

use crate::flood::Reaped;
use crate::process::{Bot, Setup};
use crate::support::discord::Target;
use crate::support::*;

/// Waits until the bot has printed `needle` at least `times` times.
async fn wait_for_log(bot: &Bot, needle: &str, times: usize) {
    // The watcher looks at the file every 2 s.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let log = bot.output.lock().unwrap().clone();
        if log.matches(needle).count() >= times {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} (x{times}) in:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(bot: &Bot, name: &str) {
    let res = reqwest::Client::new()
        .post(format!("{}/webhook/payhip", bot.base))
        .body(payhip_signed(name))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{name}");
}

#[tokio::test]
async fn a_reload_to_an_empty_or_broken_file_is_refused_and_sales_are_still_announced() {
    let setup = Setup::new().await;
    let config = setup.dir.path().join("config.json");
    let bot = Reaped(setup.spawn());

    std::fs::write(&config, "{}").unwrap();
    wait_for_log(&bot, "was not applied", 1).await;
    let log = bot.output.lock().unwrap().clone();
    assert!(
        log.contains("ERROR")
            && log.contains("would stop every notice announced now (payhip newSale)"),
        "{log}"
    );
    std::fs::write(&config, r#"{ "discordConfig": { "salesChannelId": "#).unwrap();
    wait_for_log(&bot, "was not applied", 2).await;

    post(&bot, "paid").await;
    let posted = setup
        .discord
        .wait_for_messages(1, Duration::from_secs(20))
        .await;
    assert_eq!(posted[0].target, Target::Channel(42));

    // A sound edit still goes through after the refusals.
    std::fs::write(
        &config,
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" },
             "discordConfig": { "salesChannelId": "42", "refundsChannelId": "43" } }"#,
    )
    .unwrap();
    wait_for_log(&bot, "config reloaded", 1).await;
    post(&bot, "refunded").await;
    let posted = setup
        .discord
        .wait_for_messages(2, Duration::from_secs(20))
        .await;
    assert_eq!(posted[1].target, Target::Channel(43));
}
