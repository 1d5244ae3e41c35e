//! Launch bursts: a place that is behind gets up to ten notices per message, and past
//! `delivery.summaryBacklog` waiting a summary per minute; each sale still exactly once, in order,
//! also when Discord's answer to a packed message is lost.

use std::collections::HashSet;
use std::time::Duration;

use crate::outbox_steps::{hook, to_hook, Options, Stepper, SALES};
use crate::support::discord::{FakeDiscord, Scripted, Target};

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i:03}")).collect()
}

async fn sell(w: &Stepper, ids: &[String]) {
    for id in ids {
        w.sale(id).await;
    }
}

fn to_sales_channel(c: &mut integrations_bot::config::Config) {
    c.discord_config.sales_channel_id = Some(SALES);
}

#[tokio::test]
async fn a_backlog_of_25_sales_goes_out_as_three_messages_in_order_each_sale_once() {
    let discord = FakeDiscord::start().await;
    let w = Stepper::start(&discord, Options::default(), to_sales_channel).await;
    let sold = ids("B", 25);
    sell(&w, &sold).await;
    assert_eq!(w.step().await, 25);

    let channel = Target::Channel(SALES);
    let messages = discord.messages_to(&channel);
    let embeds: Vec<usize> = messages
        .iter()
        .map(|m| m.body["embeds"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(embeds, [10, 10, 5]);
    assert_eq!(
        discord.sale_ids_to(&channel),
        sold,
        "each once, oldest first"
    );
    for m in &messages {
        let chars = m.body["embeds"].to_string().chars().count();
        assert!(
            chars < 6_000 + 2_000,
            "embeds within Discord's total: {chars}"
        );
    }
    let nonces: HashSet<String> = messages
        .iter()
        .map(|m| m.body["nonce"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(nonces.len(), 3, "one nonce per message");

    // The rows of one message are delivered together, as that message.
    let rows = w.rows().await;
    assert!(rows.iter().all(|r| r.status == "delivered"));
    let first: HashSet<_> = rows[..10].iter().map(|r| &r.discord_message_id).collect();
    assert_eq!(first.len(), 1);
    assert_eq!(
        rows[0].discord_message_id.as_deref(),
        Some(messages[0].message_id.as_str())
    );
}

/// A packed message whose answer is lost goes out again as exactly that message, even though more
/// sales arrived meanwhile: Discord (or the bot's look in the channel) recognises it, and no sale
/// is posted twice or marked posted unseen.
async fn lost_answer_to_a_packed_message(
    target: Target,
    configure: fn(&mut integrations_bot::config::Config),
) {
    let discord = FakeDiscord::start().await;
    discord.script_for(target.clone(), [Scripted::Lost]);
    let w = Stepper::start(&discord, Options::default(), configure).await;
    let first = ids("L", 15);
    sell(&w, &first).await;
    w.step().await;
    assert_eq!(
        discord.messages_to(&target).len(),
        1,
        "Discord took the first ten"
    );

    let later = ids("M", 3);
    sell(&w, &later).await;
    w.advance(Duration::from_secs(60));
    w.step().await;
    let all: Vec<String> = first.iter().chain(&later).cloned().collect();
    assert_eq!(
        discord.sale_ids_to(&target),
        all,
        "each sale once, in order"
    );
    let embeds: Vec<usize> = discord
        .messages_to(&target)
        .iter()
        .map(|m| m.body["embeds"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(embeds, [10, 8], "the lost message was not made again");
    assert!(w.rows().await.iter().all(|r| r.status == "delivered"));
}

#[tokio::test]
async fn a_packed_message_to_a_channel_whose_answer_was_lost_is_not_posted_twice() {
    lost_answer_to_a_packed_message(Target::Channel(SALES), to_sales_channel).await;
}

#[tokio::test]
async fn a_packed_message_to_a_webhook_url_whose_answer_was_lost_is_not_posted_twice() {
    lost_answer_to_a_packed_message(hook(), to_hook).await;
}

#[tokio::test]
async fn past_the_backlog_limit_one_summary_per_minute_lists_every_sale_once() {
    let discord = FakeDiscord::start().await;
    let w = Stepper::start(&discord, Options::default(), to_sales_channel).await;
    let minute_one = ids("S", 70);
    w.to_next_minute();
    sell(&w, &minute_one).await;
    w.to_next_minute();
    let minute_two = ids("T", 60);
    sell(&w, &minute_two).await;
    w.step().await;

    let channel = Target::Channel(SALES);
    let messages = discord.messages_to(&channel);
    assert_eq!(messages.len(), 2, "one summary per minute");
    let title = |i: usize| {
        messages[i].body["embeds"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        title(0).starts_with("+70 sales in one minute · "),
        "{}",
        title(0)
    );
    assert!(
        title(1).starts_with("+60 sales in one minute · "),
        "{}",
        title(1)
    );
    let all: Vec<String> = minute_one.iter().chain(&minute_two).cloned().collect();
    assert_eq!(discord.sale_ids_to(&channel), all);
    assert!(w.rows().await.iter().all(|r| r.status == "delivered"));
}

#[tokio::test]
async fn with_summaries_off_a_long_backlog_still_goes_ten_to_a_message() {
    let discord = FakeDiscord::start().await;
    let w = Stepper::start(&discord, Options::default(), |c| {
        to_sales_channel(c);
        c.delivery.summary_backlog = 0;
    })
    .await;
    let sold = ids("N", 120);
    sell(&w, &sold).await;
    w.step().await;
    let channel = Target::Channel(SALES);
    assert_eq!(discord.messages_to(&channel).len(), 12);
    assert_eq!(discord.sale_ids_to(&channel), sold);
}
