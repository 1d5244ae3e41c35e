//! A public feed during a launch: packed ten to a message, and past the backlog a summary per
//! minute, still without an amount, a buyer or an order id.

use serde_json::json;

use crate::outbox_steps::{Options, Stepper, SALES};
use crate::support::discord::{FakeDiscord, Target};

/// Payhip's sales go to the staff channel and, as a public feed, to `PUBLIC`.
const PUBLIC: u64 = 3_001;

fn public_feed(c: &mut integrations_bot::config::Config) {
    c.payhip_config.notify = serde_json::from_value(json!({
        "newSale": [ { "channelId": SALES.to_string() },
                     { "channelId": PUBLIC.to_string(), "public": true } ]
    }))
    .expect("routes");
}

fn assert_nothing_private(text: &str) {
    for private in [
        "$",
        "29.99",
        "USD",
        "example.com",
        "PUB-",
        "Customer",
        "Total",
    ] {
        assert!(
            !text.contains(private),
            "{private:?} in the public feed: {text}"
        );
    }
}

#[tokio::test]
async fn a_public_feed_packs_and_summarises_without_amounts_or_ids() {
    let discord = FakeDiscord::start().await;
    let w = Stepper::start(&discord, Options::default(), public_feed).await;
    for i in 0..25 {
        w.sale(&format!("PUB-{i:03}")).await;
    }
    w.step().await;
    let public = Target::Channel(PUBLIC);
    let embeds: Vec<usize> = discord
        .messages_to(&public)
        .iter()
        .map(|m| m.body["embeds"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(embeds, [10, 10, 5]);
    for m in discord.messages_to(&public) {
        let text = m.body.to_string();
        assert!(text.contains("Pixel Art Course"), "{text}");
        assert_nothing_private(&text);
    }
    assert!(
        discord.messages_to(&Target::Channel(SALES))[0]
            .body
            .to_string()
            .contains("$29.99"),
        "the staff channel keeps the amounts"
    );

    w.to_next_minute();
    for i in 100..170 {
        w.sale(&format!("PUB-{i:03}")).await;
    }
    w.step().await;
    let summary = discord.messages_to(&public).pop().expect("a summary");
    let title = summary.body["embeds"][0]["title"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        title, "+70 sales in one minute",
        "no total on a public feed"
    );
    let text = summary.body.to_string();
    assert!(text.contains("Pixel Art Course"), "{text}");
    assert_nothing_private(&text);
    assert!(w.rows().await.iter().all(|r| r.status == "delivered"));
}
