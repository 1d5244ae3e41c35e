//! Command replies as a seller reads them, driven end to end through the fake gateway and REST
//! API: plurals, rounding, the comparison window, paging to the last event, the chart only when
//! there is something to draw, the CSV a spreadsheet sums, and the commands the JavaScript bot had.

use serde_json::{json, Value};

use crate::commands::{connected_bot, connected_bot_with, run, Bot, ADMIN, ALL, WAIT};
use crate::support::gateway::GatewayOptions;
use crate::support::*;

/// A signed Payhip `paid` for one unit of "Pixel Art Course" at `price` cents, at `date`.
fn sale(id: &str, price: i64, date: i64) -> Vec<u8> {
    payhip_sale_with(id, |v| {
        v["price"] = json!(price);
        v["date"] = json!(date);
        v["items"] =
            json!([{ "product_id": "1", "product_name": "Pixel Art Course", "quantity": "1" }]);
    })
}

fn field<'a>(embed: &'a Value, name: &str) -> &'a str {
    embed["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name} in {embed}"))
}

async fn post(bot: &Bot, body: Vec<u8>) {
    assert_eq!(bot.app.post("/webhook/payhip", body).await.0, 200);
}

/// 23 and 22 November 2025, noon UTC.
const NOV_23: i64 = 1_763_899_200;
const NOV_22: i64 = NOV_23 - 86_400;

#[tokio::test]
async fn stats_reads_right_singulars_rounding_the_first_day_and_the_window_compared() {
    let bot = connected_bot().await;
    post(&bot, sale("A-1", 2999, NOV_23)).await;
    post(&bot, sale("A-2", 2596, NOV_23 + 60)).await;
    post(&bot, sale("B-1", 1000, NOV_22)).await;

    let all = run(
        &bot,
        1,
        "stats",
        json!([{"name": "period", "type": 4, "value": ALL}]),
    )
    .await;
    let embed = &all.body["embeds"][0];
    let first_midnight = NOV_22 - 12 * 3600;
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .starts_with(&format!("<t:{first_midnight}:f> →")),
        "all starts on the day of the first event, not in 1970: {embed}"
    );

    // 23 November against the day before: 2 sales, $55.95, average $27.975 rounded to nearest.
    let day = run(
        &bot,
        2,
        "stats",
        json!([{"name": "from", "type": 3, "value": "2025-11-23"},
               {"name": "to", "type": 3, "value": "2025-11-23"}]),
    )
    .await;
    let usd = field(&day.body["embeds"][0], "USD");
    assert!(usd.contains("Gross: **$55.95**"), "{usd}");
    assert!(usd.contains("Average order: $27.98"), "{usd}");
    assert!(
        usd.contains("Net vs 22 Nov: +459.5 % (was $10.00)"),
        "the window compared is named: {usd}"
    );
    let top = field(&day.body["embeds"][0], "Top products");
    assert_eq!(top, "1. Pixel Art Course — 2 orders, 2 units");

    let one = run(
        &bot,
        3,
        "stats",
        json!([{"name": "from", "type": 3, "value": "2025-11-22"},
               {"name": "to", "type": 3, "value": "2025-11-22"}]),
    )
    .await;
    let top = field(&one.body["embeds"][0], "Top products");
    assert_eq!(top, "1. Pixel Art Course — 1 order, 1 unit");
    assert_eq!(one.body["_files"][0]["name"], "revenue.png");
    bot.app.stop().await;
}

#[tokio::test]
async fn an_empty_period_gets_no_chart() {
    let bot = connected_bot().await;
    let stats = run(&bot, 5, "stats", json!([])).await;
    let embed = &stats.body["embeds"][0];
    assert_eq!(field(embed, "Sales"), "No sales in this period.");
    let files = stats.body["_files"].as_array().cloned().unwrap_or_default();
    assert!(files.is_empty(), "no blank chart: {}", stats.body);
    assert!(embed["image"].is_null(), "{embed}");
    bot.app.stop().await;
}

#[tokio::test]
async fn sales_pages_reach_every_event_with_order_ids_and_quantities() {
    let bot = connected_bot().await;
    for i in 0..13 {
        post(&bot, sale(&format!("ORDER-{i:02}"), 1000, NOV_23 + i)).await;
    }
    let mut refund = fixture("payhip/refunded.json");
    refund["id"] = json!("ORDER-12");
    refund["amount_refunded"] = json!(500);
    refund["price"] = json!(1000);
    refund["date_refunded"] = json!(NOV_23 + 100);
    refund["signature"] = json!(payhip_signature(PAYHIP_KEY));
    post(&bot, serde_json::to_vec(&refund).unwrap()).await;

    let first = run(&bot, 40, "sales", json!([])).await;
    let page = &first.body["embeds"][0];
    assert_eq!(page["footer"]["text"], "Page 1 of 2 · 1–10 of 14 events");
    let lines = page["description"].as_str().unwrap();
    let top = lines.lines().next().unwrap();
    assert!(
        top.contains(
            "**Refund** · `ORDER-12` · 1× Pixel Art Course (Lifetime) · $5.00 (partial, of $10.00)"
        ),
        "{top}"
    );
    assert!(
        lines.contains("**Sale** · `ORDER-12` · 1× Pixel Art Course · $10.00"),
        "{lines}"
    );

    bot.gateway
        .send_interaction(bot.gateway.button_click(41, "tok41", "40:last", 1, ADMIN))
        .await;
    let last = bot
        .discord
        .wait_for_request("the last page", WAIT, |r| {
            r.path.contains("/interactions/41/")
        })
        .await;
    let page = &last.body["data"]["embeds"][0];
    assert_eq!(page["footer"]["text"], "Page 2 of 2 · 11–14 of 14 events");
    let lines = page["description"].as_str().unwrap();
    assert_eq!(lines.lines().count(), 4, "{lines}");
    assert!(
        lines.contains("`ORDER-00`"),
        "the oldest is reachable: {lines}"
    );
    bot.app.stop().await;
}

#[tokio::test]
async fn config_show_and_configoptions_list_only_the_stores_set_up() {
    let bot = connected_bot_with(
        GatewayOptions::default(),
        |c| c.discord_config.timezone = Some("Europe/Paris".into()),
        |e| e.secrets.xsolla_secret_key = None,
    )
    .await;
    let show = json!([{"name": "show", "type": 1, "options": []}]);
    let config = run(&bot, 50, "config", show).await;
    let text = config.body["data"]["content"].as_str().unwrap().to_owned();
    assert!(text.contains("**Payhip**: sales off"), "{text}");
    assert!(!text.contains("Xsolla"), "Xsolla is not set up: {text}");
    assert!(text.contains("**Time zone**: Europe/Paris"), "{text}");
    let alias = run(&bot, 51, "configoptions", json!([])).await;
    assert_eq!(alias.body["data"]["content"], json!(text));
    assert_eq!(alias.body["data"]["flags"], 64, "private");
    bot.app.stop().await;
}

#[tokio::test]
async fn ping_answers_with_the_heartbeat_and_the_round_trip() {
    let bot = connected_bot_with(
        GatewayOptions {
            heartbeat_interval_ms: 100,
            ..GatewayOptions::default()
        },
        |_| {},
        |_| {},
    )
    .await;
    eventually("two heartbeats", WAIT, || {
        let beats = bot.gateway.heartbeats();
        async move { beats >= 2 }
    })
    .await;
    let token = "tok60";
    bot.gateway
        .send_interaction(
            bot.gateway
                .slash_command(60, token, "ping", json!([]), ADMIN, "8"),
        )
        .await;
    let edit = bot
        .discord
        .wait_for_request("the measured answer", WAIT, |r| {
            r.method == "PATCH" && r.path.contains(token)
        })
        .await;
    let text = edit.body["content"].as_str().unwrap_or_default();
    let shape = text.starts_with("Pong! Gateway heartbeat: ")
        && text.contains(" ms · API round trip: ")
        && text.ends_with(" ms");
    assert!(shape, "{text}");
    let callback = bot
        .discord
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/interactions/60/"))
        .unwrap();
    assert_eq!(callback.body["data"]["flags"], 64, "private");
    bot.app.stop().await;
}

#[tokio::test]
async fn test_takes_the_javascript_bots_words_and_payhips_names() {
    let bot = connected_bot().await;
    for (id, typed, kind) in [
        (70, "sale", "paid"),
        (71, "refunded", "refunded"),
        (72, "subscription_created", "subscription.created"),
        (73, "subscription.deleted", "subscription.deleted"),
    ] {
        let answer = run(
            &bot,
            id,
            "test",
            json!([{"name": "type", "type": 3, "value": typed}]),
        )
        .await;
        let text = answer.body["data"]["content"].as_str().unwrap_or_default();
        assert!(
            text.starts_with(&format!("A test `{kind}` event")),
            "{typed}: {text}"
        );
    }
    let wrong = run(
        &bot,
        74,
        "test",
        json!([{"name": "type", "type": 3, "value": "chargeback"}]),
    )
    .await;
    let text = wrong.body["data"]["content"].as_str().unwrap_or_default();
    assert!(text.contains("paid (or sale)"), "{text}");
    bot.app.stop().await;
}

#[tokio::test]
async fn the_export_opens_in_excel_and_sums_to_the_net() {
    let bot = connected_bot().await;
    post(&bot, payhip_signed("paid")).await;
    post(&bot, payhip_signed("refunded")).await;
    post(&bot, sale("C-1", 1000, NOV_23)).await;
    let export = run(
        &bot,
        80,
        "export",
        json!([{"name": "period", "type": 4, "value": ALL}]),
    )
    .await;
    let csv = export.body["_files"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(csv.starts_with('\u{FEFF}'), "a UTF-8 byte-order mark first");
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 3);
    let minor: i64 = rows.iter().map(|r| r[8].parse::<i64>().unwrap()).sum();
    // $29.99 sold and refunded, $10.00 sold: the column adds up to what was kept.
    assert_eq!(minor, 1000, "refunds are negative: {csv}");
    let refund = rows.iter().find(|r| r[4] == "refund").unwrap();
    assert_eq!((refund[6], refund[8]), ("-29.99", "-2999"));
    assert_eq!(export.body["content"], "3 events (all).");
    bot.app.stop().await;
}
