//! Slash commands end to end: the real app connects to a fake gateway, registers its commands,
//! and answers injected interactions through the fake REST API.

use std::time::Duration;

use serde_json::{json, Value};

use crate::support::discord::{FakeDiscord, Recorded};
use crate::support::gateway::{FakeGateway, GatewayOptions};
use crate::support::*;

pub(crate) const APP: u64 = 940_000_000_000_000_001;
pub(crate) const GUILD: u64 = 950_000_000_000_000_001;
pub(crate) const ADMIN: u64 = 960_000_000_000_000_001;
pub(crate) const WAIT: Duration = Duration::from_secs(30);
/// Choice options travel as the index of the choice (poise registers them as integers).
pub(crate) const ALL: u64 = 6;
const XSOLLA: u64 = 1;
/// Manage Server, the default permission the commands are registered with.
const MANAGE_GUILD: &str = "32";

pub(crate) struct Bot {
    pub(crate) app: TestApp,
    pub(crate) discord: FakeDiscord,
    pub(crate) gateway: FakeGateway,
}

pub(crate) async fn connected_bot() -> Bot {
    connected_bot_with(GatewayOptions::default(), |_| {}, |_| {}).await
}

/// A connected bot with the gateway, the config and the environment adjusted.
pub(crate) async fn connected_bot_with(
    options: GatewayOptions,
    configure: impl FnOnce(&mut integrations_bot::config::Config),
    env: impl FnOnce(&mut integrations_bot::config::Environment),
) -> Bot {
    let discord = FakeDiscord::start().await;
    let gateway = FakeGateway::start_with(APP, GUILD, options).await;
    discord.set_gateway_url(gateway.url());
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    let base = discord.base();
    let app = TestApp::start_with(
        dir,
        &url,
        |c| {
            c.discord_config.guild_id = Some(GUILD);
            c.discord_config.bot_activity = Some("Payhip sales".into());
            c.payhip_config.event_types.new_sale = false; // keep the REST log to commands only
            c.payhip_config.event_types.refund = false;
            c.payhip_config.event_types.subscriptions = false;
            configure(c);
        },
        |e| {
            e.secrets.discord_token = Some(integrations_bot::config::Secret::new("fake-bot-token"));
            e.discord_api_base = Some(base);
            env(e);
        },
    )
    .await;
    gateway.wait_for_identify(WAIT).await;
    discord
        .wait_for_request("command registration", WAIT, |r| {
            r.method == "PUT" && r.path.ends_with("/commands")
        })
        .await;
    Bot {
        app,
        discord,
        gateway,
    }
}

/// Runs a slash command and returns the final answer (the deferred reply's edit, or the callback).
pub(crate) async fn run(bot: &Bot, id: u64, name: &str, options: Value) -> Recorded {
    let token = format!("tok{id}");
    let payload = bot
        .gateway
        .slash_command(id, &token, name, options, ADMIN, "8");
    bot.gateway.send_interaction(payload).await;
    let callback = bot
        .discord
        .wait_for_request("the interaction callback", WAIT, |r| {
            r.path.contains(&format!("/interactions/{id}/"))
        })
        .await;
    if callback.body["type"] == 5 {
        // Deferred: the answer arrives as a follow-up (or an edit of the original reply).
        bot.discord
            .wait_for_request("the deferred answer", WAIT, |r| {
                r.path.contains(&format!("/webhooks/{APP}/{token}")) && r.status < 300
            })
            .await
    } else {
        callback
    }
}

fn field<'a>(embed: &'a Value, name: &str) -> &'a str {
    embed["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {name} in {embed}"))
}

#[tokio::test]
async fn the_bot_identifies_with_plain_intents_and_registers_admin_only_commands() {
    let bot = connected_bot().await;
    let identify = bot.gateway.identifies()[0].clone();
    let intents = identify["intents"].as_u64().unwrap();
    let privileged = (1 << 1) | (1 << 8) | (1 << 15);
    assert_eq!(intents & privileged, 0, "no privileged intents: {intents}");
    assert!(
        identify.to_string().contains("Payhip sales"),
        "presence from botActivity: {identify}"
    );
    let registration = bot
        .discord
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .unwrap();
    assert!(
        registration.path.contains(&format!("/guilds/{GUILD}/")),
        "registered in the configured guild"
    );
    let commands = registration.body.as_array().unwrap();
    let names: Vec<&str> = commands.iter().filter_map(|c| c["name"].as_str()).collect();
    for expected in [
        "sales",
        "stats",
        "export",
        "test",
        "config",
        "configoptions",
        "help",
        "botinfo",
        "ping",
        "replay-rejected",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} registered: {names:?}"
        );
    }
    for c in commands {
        assert_eq!(
            c["default_member_permissions"], MANAGE_GUILD,
            "{} is for server managers only",
            c["name"]
        );
        // 0 = servers: Discord offers none of them in direct messages.
        assert_eq!(
            c["contexts"],
            json!([0]),
            "{} is for servers only",
            c["name"]
        );
    }
    bot.app.stop().await;
}

#[tokio::test]
async fn stats_sales_and_export_answer_from_the_database() {
    let bot = connected_bot().await;
    for name in ["paid", "refunded", "subscription_created"] {
        assert_eq!(
            bot.app.post("/webhook/payhip", payhip_signed(name)).await.0,
            200
        );
    }
    let (body, auth) = xsolla_signed("payment");
    let req = axum::http::Request::post("/webhook/xsolla")
        .header("authorization", auth)
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(bot.app.oneshot(req).await.0, 204);

    let stats = run(
        &bot,
        1,
        "stats",
        json!([{"name": "period", "type": 4, "value": ALL}]),
    )
    .await;
    let embed = &stats.body["embeds"][0];
    assert_eq!(embed["title"], "Sales stats: all");
    let usd = field(embed, "USD");
    assert!(
        usd.contains("Sales: **2**") && usd.contains("$39.98"),
        "{usd}"
    );
    assert!(usd.contains("Refunds: 1 ($29.99)"), "{usd}");
    assert!(usd.contains("Net: **$9.99**"), "{usd}");
    assert!(field(embed, "Subscriptions").contains("1 new"));
    assert_eq!(
        stats.body["_files"][0]["name"], "revenue.png",
        "the chart is attached: {}",
        stats.body
    );

    let xsolla_only = run(&bot, 22, "stats", json!([{"name": "period", "type": 4, "value": ALL}, {"name": "provider", "type": 4, "value": XSOLLA}])).await;
    let usd = field(&xsolla_only.body["embeds"][0], "USD");
    assert!(
        usd.contains("Sales: **1**") && usd.contains("$9.99"),
        "{usd}"
    );

    let sales = run(&bot, 23, "sales", json!([])).await;
    let page = sales.body["embeds"][0]["description"].as_str().unwrap();
    assert_eq!(page.lines().count(), 4, "{page}");
    assert!(
        page.contains("Refund") && page.contains("Pixel Art Course") && page.contains("Xsolla"),
        "{page}"
    );
    assert!(
        !page.contains("example.com"),
        "customers hidden by default: {page}"
    );

    let export = run(
        &bot,
        4,
        "export",
        json!([{"name": "period", "type": 4, "value": ALL}]),
    )
    .await;
    let file = &export.body["_files"][0];
    assert!(
        file["name"].as_str().unwrap().ends_with(".csv"),
        "{}",
        export.body
    );
    bot.app.stop().await;
}

#[tokio::test]
async fn answers_are_private_unless_public_is_asked() {
    let bot = connected_bot().await;
    let token = "tok-private";
    bot.gateway
        .send_interaction(
            bot.gateway
                .slash_command(10, token, "stats", json!([]), ADMIN, "8"),
        )
        .await;
    let callback = bot
        .discord
        .wait_for_request("callback", WAIT, |r| r.path.contains("/interactions/10/"))
        .await;
    assert_eq!(
        callback.body["data"]["flags"], 64,
        "ephemeral: {}",
        callback.body
    );
    bot.gateway
        .send_interaction(bot.gateway.slash_command(
            11,
            "tok-public",
            "stats",
            json!([{"name": "public", "type": 5, "value": true}]),
            ADMIN,
            "8",
        ))
        .await;
    let callback = bot
        .discord
        .wait_for_request("callback", WAIT, |r| r.path.contains("/interactions/11/"))
        .await;
    assert_ne!(
        callback.body["data"]["flags"], 64,
        "public: {}",
        callback.body
    );
    bot.app.stop().await;
}

#[tokio::test]
async fn sales_pages_turn_for_the_caller_only() {
    let bot = connected_bot().await;
    for i in 0..15 {
        let (status, _) = bot
            .app
            .post("/webhook/payhip", payhip_sale(&format!("PAGE-{i:02}")))
            .await;
        assert_eq!(status, 200);
    }
    let first = run(&bot, 30, "sales", json!([])).await;
    let footer = first.body["embeds"][0]["footer"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(footer.starts_with("Page 1 of 2"), "{footer}");
    let buttons = first.body["components"][0]["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let labels: Vec<&str> = buttons.iter().filter_map(|b| b["label"].as_str()).collect();
    assert_eq!(labels, ["⏮ First", "◀ Previous", "Next ▶", "Last ⏭"]);

    // Someone else presses Next: refused privately, the page does not turn.
    let next = "30:next";
    bot.gateway
        .send_interaction(bot.gateway.button_click(31, "tok31", next, 1, 999))
        .await;
    let refused = bot
        .discord
        .wait_for_request("the refusal", WAIT, |r| {
            r.path.contains("/interactions/31/")
        })
        .await;
    assert_eq!(refused.body["type"], 4, "{}", refused.body);
    assert_eq!(refused.body["data"]["flags"], 64);

    // The caller presses Next: the same message shows page 2.
    bot.gateway
        .send_interaction(bot.gateway.button_click(32, "tok32", next, 1, ADMIN))
        .await;
    let turned = bot
        .discord
        .wait_for_request("the page turn", WAIT, |r| {
            r.path.contains("/interactions/32/")
        })
        .await;
    assert_eq!(
        turned.body["type"], 7,
        "an update of the message: {}",
        turned.body
    );
    let page = &turned.body["data"]["embeds"][0];
    let footer = page["footer"]["text"].as_str().unwrap_or_default();
    assert_eq!(footer, "Page 2 of 2 · 11–15 of 15 events");
    let lines = page["description"].as_str().unwrap_or_default();
    assert_eq!(lines.lines().count(), 5, "{lines}");
    assert!(
        lines.contains("`PAGE-00`"),
        "the oldest is reached: {lines}"
    );
    bot.app.stop().await;
}

#[tokio::test]
async fn an_instance_with_commands_off_posts_notices_without_a_gateway() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.commands = Some(false);
        c.discord_config.sales_channel_id = Some(42);
    })
    .await;
    assert_eq!(
        app.post("/webhook/payhip", payhip_signed("paid")).await.0,
        200
    );
    discord.wait_for_messages(1, WAIT).await;
    app.stop().await;
    assert!(
        discord
            .requests()
            .iter()
            .all(|r| !r.path.contains("/gateway")),
        "no gateway session was opened"
    );
}
