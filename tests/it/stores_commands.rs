//! `/sales` and `/stats` for one store of several, through the gateway double.

use integrations_bot::config::{ListedStore, Secret};
use serde_json::{json, Value};

use crate::commands::{connected_bot_with, run, ALL};
use crate::support::gateway::GatewayOptions;
use crate::support::*;

/// The choice index of Payhip in the `provider` option.
const PAYHIP: u64 = 0;

fn sale(id: &str, cents: i64, key: &str) -> Vec<u8> {
    let mut v = fixture("payhip/paid.json");
    v["id"] = Value::String(id.to_owned());
    v["price"] = json!(cents);
    v["signature"] = Value::String(payhip_signature(key));
    serde_json::to_vec(&v).expect("serialises")
}

fn usd(answer: &Value) -> String {
    answer["embeds"][0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "USD"))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no USD field in {answer}"))
        .to_owned()
}

#[tokio::test]
async fn sales_and_stats_show_one_store_of_several() {
    let bot = connected_bot_with(
        GatewayOptions::default(),
        |c| {
            c.listed = serde_json::from_value::<Vec<ListedStore>>(json!([
                { "name": "eu", "provider": "payhip", "secretEnv": "PAYHIP_EU_KEY" },
                { "name": "us", "provider": "payhip", "secretEnv": "PAYHIP_US_KEY" }
            ]))
            .expect("stores");
        },
        |env| {
            env.secrets
                .stores
                .set("PAYHIP_EU_KEY", Some(Secret::new("eu-key")));
            env.secrets
                .stores
                .set("PAYHIP_US_KEY", Some(Secret::new("us-key")));
        },
    )
    .await;
    for (path, body) in [
        ("/webhook/eu", sale("EU-1", 1000, "eu-key")),
        ("/webhook/eu", sale("EU-2", 1500, "eu-key")),
        ("/webhook/us", sale("US-1", 9900, "us-key")),
    ] {
        assert_eq!(bot.app.post(path, body).await.0, 200);
    }

    let store = |name: &str| json!({"name": "store", "type": 3, "value": name});
    let period = json!({"name": "period", "type": 4, "value": ALL});
    let eu = run(&bot, 31, "stats", json!([period, store("eu")])).await;
    let figures = usd(&eu.body);
    assert!(
        figures.contains("Sales: **2**") && figures.contains("$25.00"),
        "{figures}"
    );
    let us = run(&bot, 32, "stats", json!([period, store("us")])).await;
    let figures = usd(&us.body);
    assert!(
        figures.contains("Sales: **1**") && figures.contains("$99.00"),
        "{figures}"
    );
    let both = run(&bot, 33, "stats", json!([period])).await;
    assert!(usd(&both.body).contains("Sales: **3**"));

    let page = run(&bot, 34, "sales", json!([store("us")])).await;
    let lines = page.body["embeds"][0]["description"].as_str().unwrap();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    assert!(
        lines.contains("$99.00") && lines.contains("Payhip (us)"),
        "{lines}"
    );

    let unknown = run(&bot, 35, "sales", json!([store("asia")])).await;
    assert!(
        unknown.body.to_string().contains("No store is called"),
        "{}",
        unknown.body
    );
    let ambiguous = run(
        &bot,
        36,
        "stats",
        json!([period, {"name": "provider", "type": 4, "value": PAYHIP}]),
    )
    .await;
    assert!(
        ambiguous
            .body
            .to_string()
            .contains("Several stores take payhip webhooks (payhip, eu, us)"),
        "{}",
        ambiguous.body
    );
    bot.app.stop().await;
}
