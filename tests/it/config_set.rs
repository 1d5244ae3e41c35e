//! `/config set` from Discord on a bot started from a real config.json: the seller's file keeps
//! its order and its unknown keys, and a change that would silence every notice is refused, as a
//! hand edit would be.

use serde_json::{json, Value};

use integrations_bot::app;
use integrations_bot::config::{Config, Environment, Secret, Settings};

use crate::commands::{run, Bot, APP, GUILD, WAIT};
use crate::support::discord::FakeDiscord;
use crate::support::gateway::FakeGateway;
use crate::support::*;

/// The seller's own file: keys in their order, one this bot does not know, sales announced.
const FILE: &str = r#"{
  "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" },
  "sellerNotes": { "keep": "this" },
  "discordConfig": { "salesChannelId": "42", "guildId": "950000000000000001" },
  "payhipConfig": { "eventTypes": { "newSale": true, "refund": false, "subscriptions": false } }
}
"#;

async fn bot_on_file() -> (Bot, std::path::PathBuf) {
    let discord = FakeDiscord::start().await;
    let gateway = FakeGateway::start(APP, GUILD).await;
    discord.set_gateway_url(gateway.url());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, FILE).unwrap();
    let mut env = Environment::default();
    env.secrets.payhip_api_key = Some(Secret::new(PAYHIP_KEY));
    env.secrets.discord_token = Some(Secret::new("fake-bot-token"));
    env.discord_api_base = Some(discord.base());
    env.database_url = Some(fresh_database_url(dir.path()).await);
    let config = Config::load(&path).expect("the seller's file loads");
    let clock = std::sync::Arc::new(integrations_bot::clock::ManualClock::new());
    let settings = Settings::resolve(config, env, Some(path.clone()));
    let running = app::start_with_clock(settings, clock.clone())
        .await
        .expect("app starts");
    let base = format!("http://{}", running.addr);
    gateway.wait_for_identify(WAIT).await;
    discord
        .wait_for_request("command registration", WAIT, |r| {
            r.method == "PUT" && r.path.ends_with("/commands")
        })
        .await;
    let app = TestApp {
        running,
        dir,
        base,
        clock,
    };
    (
        Bot {
            app,
            discord,
            gateway,
        },
        path,
    )
}

fn set(key: &str, value: &str) -> Value {
    json!([{ "type": 1, "name": "set", "options": [
        { "type": 3, "name": "key", "value": key },
        { "type": 3, "name": "value", "value": value },
    ] }])
}

fn answer(recorded: &crate::support::discord::Recorded) -> String {
    let data = if recorded.body["data"].is_object() {
        &recorded.body["data"]
    } else {
        &recorded.body
    };
    data["content"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn config_set_keeps_the_sellers_file_and_refuses_to_silence_every_notice() {
    let (bot, path) = bot_on_file().await;

    let done = run(&bot, 71, "config", set("embedColors.refund", "#123456")).await;
    assert_eq!(answer(&done), "`embedColors.refund` is now `#123456`.");
    let text = std::fs::read_to_string(&path).unwrap();
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} in:\n{text}"))
    };
    assert!(
        at("webhookConfig") < at("sellerNotes")
            && at("sellerNotes") < at("discordConfig")
            && at("discordConfig") < at("payhipConfig")
            && at("payhipConfig") < at("embedColors"),
        "the seller's order, the new section last:\n{text}"
    );
    assert!(text.contains(r#""keep": "this""#), "{text}");
    assert!(text.contains(r##""refund": "#123456""##), "{text}");
    assert_eq!(
        bot.app.running.state.config().embed_colors.refund.0,
        0x123456,
        "applied at once"
    );

    // Sales are the only thing announced: switching them off would announce nothing.
    let refused = run(
        &bot,
        72,
        "config",
        set("payhipConfig.eventTypes.newSale", "off"),
    )
    .await;
    let said = answer(&refused);
    assert!(
        said.starts_with("payhipConfig.eventTypes.newSale: not changed: it would stop every notice announced now (payhip newSale)"),
        "{said}"
    );
    assert!(said.contains("edit config.json and restart"), "{said}");
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains(r#""newSale": true"#),
        "the file is untouched"
    );
    assert!(
        bot.app
            .running
            .state
            .config()
            .payhip_config
            .event_types
            .new_sale
    );

    // Moving sales to another channel still goes through.
    let moved = run(
        &bot,
        73,
        "config",
        set("discordConfig.salesChannelId", "43"),
    )
    .await;
    assert_eq!(
        answer(&moved),
        "`discordConfig.salesChannelId` is now `43`."
    );
    assert_eq!(
        bot.app
            .running
            .state
            .config()
            .discord_config
            .sales_channel_id,
        Some(43)
    );
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary file left: {left:?}");
    bot.app.stop().await;
}
