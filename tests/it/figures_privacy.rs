//! What strangers can get out of the bot: figures only inside the seller's server and only to the
//! person asking, and store-supplied names that cannot turn a notice into a link, a ping or a
//! restyled message.

use serde_json::{json, Value};

use crate::commands::{connected_bot, run, Bot, ADMIN, WAIT};
use crate::support::discord::{FakeDiscord, Recorded, Target};
use crate::support::*;

const OTHER_GUILD: u64 = 950_000_000_000_000_999;
const HOSTILE: &str = "[click](https://evil.example) @everyone **bold**";

/// The first answer Discord got for interaction `id` (a reply, or a "thinking…" deferral).
fn callback(bot: &Bot, id: u64) -> Recorded {
    bot.discord
        .requests()
        .into_iter()
        .find(|r| r.path.contains(&format!("/interactions/{id}/")))
        .unwrap_or_else(|| panic!("no callback for interaction {id}"))
}

async fn refusal(bot: &Bot, id: u64, payload: Value) -> Value {
    bot.gateway.send_interaction(payload).await;
    let answer = bot
        .discord
        .wait_for_request("the refusal", WAIT, |r| {
            r.path.contains(&format!("/interactions/{id}/"))
        })
        .await;
    assert_eq!(
        answer.body["type"], 4,
        "an immediate reply: {}",
        answer.body
    );
    assert_eq!(answer.body["data"]["flags"], 64, "private: {}", answer.body);
    answer.body["data"].clone()
}

fn assert_no_figures(data: &Value) {
    let content = data["content"].as_str().unwrap_or_default();
    assert!(
        !content.chars().any(|c| c.is_ascii_digit()),
        "no figures: {content}"
    );
    assert!(
        data["embeds"].as_array().is_none_or(Vec::is_empty),
        "{data}"
    );
    assert!(
        data["attachments"].as_array().is_none_or(Vec::is_empty),
        "{data}"
    );
}

#[tokio::test]
async fn figures_are_refused_in_direct_messages() {
    let bot = connected_bot().await;
    assert_eq!(
        bot.app
            .post("/webhook/payhip", payhip_signed("paid"))
            .await
            .0,
        200
    );
    let commands = ["botinfo", "sales", "stats", "export", "help"];
    for (i, name) in commands.iter().enumerate() {
        let id = 100 + i as u64;
        let dm = bot
            .gateway
            .dm_slash_command(id, &format!("dm{id}"), name, ADMIN);
        let data = refusal(&bot, id, dm).await;
        let content = data["content"].as_str().unwrap_or_default();
        assert!(
            content.contains("only inside a server"),
            "/{name}: {content}"
        );
        assert_no_figures(&data);
    }
    // The same command inside the server does show the figures the DM was refused.
    let info = run(&bot, 110, "botinfo", json!([])).await;
    let text = info.body["data"]["content"].as_str().unwrap_or_default();
    assert!(
        text.contains("Events stored: 1 (1 sale, 0 refunds)"),
        "{text}"
    );
    for i in 0..commands.len() as u64 {
        let token = format!("dm{}", 100 + i);
        let answers = bot
            .discord
            .requests()
            .into_iter()
            .filter(|r| r.path.contains(&token))
            .count();
        assert_eq!(answers, 1, "nothing followed the refusal of {token}");
    }
    bot.app.stop().await;
}

#[tokio::test]
async fn another_server_cannot_read_this_stores_figures() {
    let bot = connected_bot().await;
    let payload = bot.gateway.slash_command_in_guild(
        OTHER_GUILD,
        120,
        "tok120",
        "botinfo",
        json!([]),
        ADMIN,
        "8",
    );
    let data = refusal(&bot, 120, payload).await;
    assert!(
        data["content"]
            .as_str()
            .unwrap_or_default()
            .contains("only in the server it is set up for"),
        "{data}"
    );
    assert_no_figures(&data);
    bot.app.stop().await;
}

#[tokio::test]
async fn every_answer_with_figures_is_private_and_pings_no_one() {
    let bot = connected_bot().await;
    let show = json!([{"name": "show", "type": 1, "options": []}]);
    for (id, name, options) in [
        (130, "sales", json!([])),
        (131, "stats", json!([])),
        (132, "export", json!([])),
        (133, "botinfo", json!([])),
        (134, "config", show),
        (135, "help", json!([])),
    ] {
        let answer = run(&bot, id, name, options).await;
        let first = callback(&bot, id);
        assert_eq!(
            first.body["data"]["flags"], 64,
            "/{name} answers privately: {}",
            first.body
        );
        let body = if answer.body["type"] == 4 {
            &answer.body["data"]
        } else {
            &answer.body
        };
        assert_eq!(
            body["allowed_mentions"]["parse"],
            json!([]),
            "/{name} pings no one: {body}"
        );
    }
    bot.app.stop().await;
}

const SALES: u64 = 1001;
const HOOK: &str = "https://discord.com/api/webhooks/555/hook-token_1";

#[tokio::test]
async fn a_hostile_product_name_is_posted_inert_to_channels_and_webhook_urls() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(SALES);
        c.notifications.new_sale.webhook_urls = vec![HOOK.into()];
        c.notifications.new_sale.message = Some("**%product%** for %user%".into());
        c.privacy.show_customer = true;
    })
    .await;
    let mut sale = fixture("payhip/paid.json");
    sale["items"][0]["product_name"] = json!(HOSTILE);
    sale["items"][0]["variant_name"] = json!("<@&1> ||spoiler||");
    sale["items"][0]["coupon_code"] = json!("`x`");
    sale["coupons"][0]["code"] = json!("`x`");
    sale["email"] = json!("__x__@evil.example");
    sale["signature"] = json!(payhip_signature(PAYHIP_KEY));
    let (status, _) = app
        .post(
            "/webhook/payhip",
            serde_json::to_vec(&sale).unwrap_or_default(),
        )
        .await;
    assert_eq!(status, 200);

    let posted = discord.wait_for_notices(2, WAIT).await;
    let targets: Vec<_> = posted.iter().map(|p| p.target.clone()).collect();
    assert!(targets.contains(&Target::Channel(SALES)), "{targets:?}");
    for p in &posted {
        assert_eq!(
            p.body["content"],
            "**\\[click\\](https\\://evil.example) @\u{200B}everyone \\*\\*bold\\*\\*, Palette Pack** for \\_\\_\\*\\*\\*@evil.example",
            "{:?}",
            p.target
        );
        let embed = &p.body["embeds"][0];
        let field = |name: &str| {
            embed["fields"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["name"] == name))
                .and_then(|f| f["value"].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(
            field("Products"),
            "• \\[click\\](https\\://evil.example) @\u{200B}everyone \\*\\*bold\\*\\* (\\<@&1> \\|\\|spoiler\\|\\|) ×1 (SALE)\n• Palette Pack ×2"
        );
        assert!(
            field("Coupon").starts_with("`\u{02CB}x\u{02CB}`"),
            "{embed}"
        );
        assert_eq!(p.body["allowed_mentions"], json!({ "parse": [] }));
        assert!(
            !p.body.to_string().contains("](https://"),
            "no masked link anywhere: {}",
            p.body
        );
    }
    app.stop().await;
}
