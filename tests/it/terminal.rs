//! What the binary prints in a terminal, in the seller's time zone: notice previews, the `stats`
//! report and its chart, and the invite link when the bot is in no server yet.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use integrations_bot::stats::{report, Filter, Period};

use crate::commands::{APP, GUILD, WAIT};
use crate::process::{spawn_bot_with, Bot};
use crate::stats::history_at;
use crate::support::discord::FakeDiscord;
use crate::support::gateway::{FakeGateway, GatewayOptions};
use crate::support::*;

/// Waits until the bot has printed `needle`, and returns everything it printed.
async fn wait_for_output(bot: &Bot, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let out = bot.output.lock().map(|o| o.clone()).unwrap_or_default();
        if out.contains(needle) {
            return out;
        }
        assert!(Instant::now() < deadline, "no {needle:?} in:\n{out}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn stop(mut bot: Bot) {
    let _ = bot.child.kill();
    let _ = bot.child.wait();
}

#[tokio::test]
async fn previews_show_dates_in_the_sellers_time_zone() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    std::fs::write(
        dir.path().join("config.json"),
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" },
             "discordConfig": { "refundsChannelId": "43", "timezone": "Europe/Paris" } }"#,
    )
    .unwrap();
    let bot = spawn_bot_with(dir.path(), &url, &[]);
    let res = reqwest::Client::new()
        .post(format!("{}/webhook/payhip", bot.base))
        .body(payhip_signed("refunded"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let out = wait_for_output(&bot, "Refund date").await;
    stop(bot);
    // Refunded 24 Nov 2025 12:13:20 UTC, bought the day before: 13:13 in Paris (CET).
    assert!(
        out.contains("Refund date: 24 November 2025 13:13 CET"),
        "{out}"
    );
    assert!(
        out.contains("Purchased: 23 November 2025 13:13 CET"),
        "{out}"
    );
    assert!(!out.contains("<t:"), "no raw Discord markup: {out}");
}

#[tokio::test]
async fn the_invite_link_is_logged_once_when_the_bot_is_in_no_server() {
    let discord = FakeDiscord::start().await;
    let options = GatewayOptions {
        in_server: false,
        ..GatewayOptions::default()
    };
    let gateway = FakeGateway::start_with(APP, GUILD, options).await;
    discord.set_gateway_url(gateway.url());
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    std::fs::write(
        dir.path().join("config.json"),
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" } }"#,
    )
    .unwrap();
    let base = discord.base();
    let bot = spawn_bot_with(
        dir.path(),
        &url,
        &[
            ("DISCORD_TOKEN", "fake-bot-token"),
            ("DISCORD_API_BASE", base.as_str()),
        ],
    );
    let link = format!("https://discord.com/oauth2/authorize?client_id={APP}&scope=bot%20applications.commands&permissions=117760");
    wait_for_output(&bot, &link).await;
    // A reconnect brings a new READY; the link is not repeated.
    gateway.close_client(4000);
    gateway.wait_for_identifies(2, WAIT).await;
    discord
        .wait_for_request("command registration", WAIT, |r| {
            r.method == "PUT" && r.path.ends_with("/commands")
        })
        .await;
    let out = wait_for_output(&bot, "connected to Discord").await;
    stop(bot);
    assert_eq!(out.matches(&link).count(), 1, "{out}");
    assert!(out.contains("in no Discord server yet"), "{out}");
}

fn stats_cli(dir: &Path, url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .arg("--config")
        .arg(dir.join("config.json"))
        .arg("stats")
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_stats_cli_reads_in_the_sellers_time_zone_and_draws_the_chart() {
    let (store, dir, url) = history_at().await;
    store.close().await;
    std::fs::write(
        dir.path().join("config.json"),
        r#"{ "discordConfig": { "timezone": "Europe/Paris" } }"#,
    )
    .unwrap();
    let png = dir.path().join("november.png");
    let png_arg = png.to_str().unwrap();
    let out = stats_cli(
        dir.path(),
        &url,
        &[
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--chart",
            png_arg,
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with(
            "Sales report: 2026-11-01 to 2026-11-30 (1 Nov 2026 00:00 to 1 Dec 2026 00:00, Europe/Paris)"
        ),
        "{text}"
    );
    assert!(
        text.contains("net vs 2–31 Oct: -80.0 % (was $50.00)"),
        "{text}"
    );
    assert!(text.contains("1. Course (2 orders, 2 units)"), "{text}");
    assert!(text.contains("(1 order, 1 unit)"), "{text}");
    let img = image::open(&png).expect("the chart is a PNG").to_rgb8();
    let chart = integrations_bot::stats::chart::HEADER_HEIGHT
        + 2 * integrations_bot::stats::chart::PANEL_HEIGHT;
    assert_eq!(
        img.dimensions(),
        (integrations_bot::stats::chart::WIDTH, chart),
        "one panel each for USD and EUR"
    );

    let empty = dir.path().join("empty.png");
    let out = stats_cli(
        dir.path(),
        &url,
        &[
            "--from",
            "2020-01-01",
            "--to",
            "2020-01-31",
            "--json",
            "--chart",
            empty.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout stays pure JSON");
    assert_eq!(json["time_zone"], "Europe/Paris");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no chart"));
    assert!(!empty.exists(), "no file for an empty period");
}

#[tokio::test]
async fn all_starts_on_the_day_of_the_first_event() {
    let (store, _dir, _) = history_at().await;
    let now: DateTime<Utc> = "2026-12-05T12:00:00Z".parse().unwrap();
    let all = Period::resolve(Some("all"), None, None, now, Tz::UTC).unwrap();
    let r = report(&store, &all, &Filter::default(), Tz::UTC)
        .await
        .unwrap();
    assert_eq!(r.period.from.to_rfc3339(), "2026-10-15T00:00:00+00:00");
    assert_eq!(
        r.chart.starts.len(),
        52,
        "15 October to 5 December, a bar a day"
    );
    store.close().await;
}
