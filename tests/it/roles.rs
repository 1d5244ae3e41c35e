//! Buyers' Discord roles end to end: the real app on the fake gateway and REST API, with a fake
//! Payhip license API. A role is "given" when the fake server's member has it.

use integrations_bot::config::{ProductRoles, RolesConfig, Secret, SubscriptionRoles};
use serde_json::{json, Value};

use crate::commands::{Bot, APP, GUILD, WAIT};
use crate::support::discord::{FakeDiscord, Recorded, Target};
use crate::support::gateway::GatewayOptions;
use crate::support::payhip_api::FakePayhip;
use crate::support::*;

pub(crate) const BUYER: u64 = 970_000_000_000_000_001;
pub(crate) const OTHER: u64 = 970_000_000_000_000_002;
pub(crate) const ROLE: u64 = 980_000_000_000_000_001;
pub(crate) const VIP: u64 = 980_000_000_000_000_002;
pub(crate) const MEMBER_ROLE: u64 = 980_000_000_000_000_003;
pub(crate) const LOG: u64 = 990_000_000_000_000_001;
pub(crate) const SECRET: &str = "prod-secret-fr3c";
pub(crate) const KEY: &str = "QX7N2-PLK4M-84WZT-RRD9C";

pub(crate) fn roles() -> RolesConfig {
    RolesConfig {
        products: vec![
            ProductRoles {
                product: "fR3c".into(),
                roles: vec![ROLE],
                secret_key: None,
            },
            ProductRoles {
                product: "gem-pack-500".into(),
                roles: vec![ROLE, VIP],
                secret_key: None,
            },
        ],
        subscriptions: vec![SubscriptionRoles {
            plan: Some("Monthly".into()),
            product: None,
            roles: vec![MEMBER_ROLE],
        }],
        log_channel_id: Some(LOG),
        checkout_question: Some("Discord username".into()),
        keep_on_partial_refund: true,
        regrant_on_rejoin: false,
    }
}

/// A bot with roles set up, its fakes, and the buyer and another member in the server.
pub(crate) async fn roles_bot(payhip: &FakePayhip) -> Bot {
    roles_bot_with(payhip, |_| {}).await
}

pub(crate) async fn roles_bot_with(
    payhip: &FakePayhip,
    edit: impl FnOnce(&mut RolesConfig),
) -> Bot {
    let base = payhip.base();
    let mut config = roles();
    edit(&mut config);
    let bot = crate::commands::connected_bot_with(
        GatewayOptions::default(),
        |c| {
            c.roles = config;
            c.xsolla_config.event_types.new_sale = false;
            c.xsolla_config.event_types.refund = false;
        },
        |e| {
            e.payhip_api_base = Some(base);
            e.secrets
                .payhip_product_secrets
                .insert("PAYHIP_PRODUCT_SECRET_FR3C".into(), Secret::new(SECRET));
        },
    )
    .await;
    bot.discord.add_member(GUILD, BUYER, "lena.sounds");
    bot.discord.add_member(GUILD, OTHER, "someone.else");
    bot
}

/// A signed Payhip sale of the legacy fixture (product `fR3c`, a license key) as `id`.
pub(crate) fn sale(id: &str, key: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = fixture("payhip/paid_legacy.json");
    v["id"] = json!(id);
    v["items"][0]["license_key"] = json!(key);
    edit(&mut v);
    v["signature"] = json!(payhip_signature(PAYHIP_KEY));
    serde_json::to_vec(&v).unwrap()
}

/// A signed Payhip refund of `id` for `amount` of its 1476.
pub(crate) fn refund(id: &str, amount: i64) -> Vec<u8> {
    let mut v = fixture("payhip/refunded.json");
    v["id"] = json!(id);
    v["currency"] = json!("EUR");
    v["price"] = json!(1476);
    v["amount_refunded"] = json!(amount);
    v["date_refunded"] = json!(1_763_986_400 + amount);
    v["signature"] = json!(payhip_signature(PAYHIP_KEY));
    serde_json::to_vec(&v).unwrap()
}

pub(crate) async fn post_payhip(bot: &Bot, body: Vec<u8>) {
    let (status, text) = bot.app.post("/webhook/payhip", body).await;
    assert!(status.is_success(), "{status} {text}");
}

/// Runs `/claim` as `user` and returns the text of the answer the member sees.
pub(crate) async fn claim_as(bot: &Bot, id: u64, user: u64, options: Value) -> String {
    let token = format!("tok{id}");
    let payload = bot
        .gateway
        .slash_command(id, &token, "claim", options, user, "68608");
    answer(bot, id, &token, payload).await
}

pub(crate) async fn answer(bot: &Bot, id: u64, token: &str, payload: Value) -> String {
    bot.gateway.send_interaction(payload).await;
    let callback = bot
        .discord
        .wait_for_request("the interaction callback", WAIT, |r| {
            r.path.contains(&format!("/interactions/{id}/"))
        })
        .await;
    let last: Recorded = if callback.body["type"] == 5 {
        bot.discord
            .wait_for_request("the deferred answer", WAIT, |r| {
                r.path.contains(&format!("/webhooks/{APP}/{token}")) && r.status < 300
            })
            .await
    } else {
        callback
    };
    let body = if last.body["data"].is_object() {
        &last.body["data"]
    } else {
        &last.body
    };
    body["content"].as_str().unwrap_or_default().to_owned()
}

pub(crate) fn by_key(key: &str) -> Value {
    json!([{ "name": "license_key", "type": 3, "value": key }])
}

pub(crate) fn by_order(order: &str, email: &str) -> Value {
    json!([
        { "name": "order_id", "type": 3, "value": order },
        { "name": "email", "type": 3, "value": email },
    ])
}

/// Staff commands: `/claims <sub>` run by the admin.
pub(crate) async fn staff(bot: &Bot, id: u64, sub: &str, options: Value) -> String {
    let token = format!("tok{id}");
    let mut payload =
        bot.gateway
            .slash_command(id, &token, "claims", json!([]), crate::commands::ADMIN, "8");
    payload["data"]["options"] = json!([{ "name": sub, "type": 1, "options": options }]);
    answer(bot, id, &token, payload).await
}

/// Waits for a line in the staff log that contains `text`.
pub(crate) async fn wait_for_log(discord: &FakeDiscord, text: &str) {
    discord
        .wait_for_request(&format!("a log line with {text}"), WAIT, |_| {
            log_lines(discord).iter().any(|l| l.contains(text))
        })
        .await;
}

pub(crate) fn log_lines(discord: &FakeDiscord) -> Vec<String> {
    discord
        .messages_to(&Target::Channel(LOG))
        .iter()
        .filter_map(|m| m.body["content"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn claim_by_order_and_email_gives_the_role_without_asking_payhip() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    let registration = bot
        .discord
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.ends_with("/commands"))
        .unwrap();
    let commands = registration.body.as_array().unwrap();
    let permission = |name: &str| {
        commands
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["default_member_permissions"].clone())
    };
    assert_eq!(
        permission("claim"),
        Some(Value::Null),
        "every member may claim"
    );
    assert_eq!(permission("claims"), Some(json!("32")), "staff only");
    post_payhip(&bot, sale("ORDER-1", KEY, |_| {})).await;

    let wrong = claim_as(&bot, 1, BUYER, by_order("ORDER-1", "someone@example.com")).await;
    assert!(wrong.contains("No purchase matches"), "{wrong}");
    let text = claim_as(
        &bot,
        2,
        BUYER,
        by_order("ORDER-1", "Lena.Buyer@example.com"),
    )
    .await;
    assert!(text.contains(&format!("<@&{ROLE}>")), "{text}");
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, true, WAIT)
        .await;
    assert!(payhip.requests().is_empty(), "no license API call");

    post_payhip(&bot, sale("ORDER-2", "OTHER-KEY", |_| {})).await;
    post_payhip(&bot, refund("ORDER-2", 1476)).await;
    let refunded = claim_as(
        &bot,
        3,
        OTHER,
        by_order("ORDER-2", "lena.buyer@example.com"),
    )
    .await;
    assert!(refunded.contains("refunded"), "{refunded}");
    assert!(bot.discord.member_roles(GUILD, OTHER).is_empty());
}

#[tokio::test]
async fn claim_by_license_key_follows_payhip_and_refuses_a_refunded_sale() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    payhip.add(KEY, SECRET, true);
    payhip.add("DISABLED-KEY", SECRET, false);
    payhip.add("REFUNDED-KEY", SECRET, true);

    let valid = claim_as(&bot, 1, BUYER, by_key(KEY)).await;
    assert!(valid.contains("will be yours"), "{valid}");
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, true, WAIT)
        .await;
    assert_eq!(payhip.requests()[0], (KEY.to_owned(), SECRET.to_owned()));

    let disabled = claim_as(&bot, 2, OTHER, by_key("DISABLED-KEY")).await;
    assert!(disabled.contains("disabled"), "{disabled}");
    let unknown = claim_as(&bot, 3, OTHER, by_key("NO-SUCH-KEY")).await;
    assert!(unknown.contains("not valid"), "{unknown}");
    payhip.set_empty_data(true);
    let empty = claim_as(&bot, 4, OTHER, by_key("NO-SUCH-KEY-2")).await;
    assert!(empty.contains("not valid"), "{empty}");

    // Payhip has not disabled it yet, but the bot saw the refund.
    post_payhip(&bot, sale("ORDER-R", "REFUNDED-KEY", |_| {})).await;
    post_payhip(&bot, refund("ORDER-R", 1476)).await;
    let refunded = claim_as(&bot, 5, OTHER, by_key("REFUNDED-KEY")).await;
    assert!(refunded.contains("refunded"), "{refunded}");
    assert!(bot.discord.member_roles(GUILD, OTHER).is_empty());
}

#[tokio::test]
async fn one_purchase_binds_one_member_until_staff_unlink_it() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    post_payhip(&bot, sale("ORDER-1", KEY, |_| {})).await;
    let order = by_order("ORDER-1", "lena.buyer@example.com");
    claim_as(&bot, 1, BUYER, order.clone()).await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, true, WAIT)
        .await;

    let taken = claim_as(&bot, 2, OTHER, order.clone()).await;
    assert!(
        taken.contains("already linked to another member"),
        "{taken}"
    );
    let again = claim_as(&bot, 3, BUYER, order.clone()).await;
    assert!(again.contains("already yours"), "{again}");

    let lookup = staff(
        &bot,
        4,
        "lookup",
        json!([{ "name": "order_id", "type": 3, "value": "ORDER-1" }]),
    )
    .await;
    assert!(lookup.contains(&format!("<@{BUYER}>")), "{lookup}");
    let unbound = staff(
        &bot,
        5,
        "unbind",
        json!([{ "name": "order_id", "type": 3, "value": "ORDER-1" }]),
    )
    .await;
    assert!(unbound.contains("Unlinked 1"), "{unbound}");
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, false, WAIT)
        .await;
    let now_theirs = claim_as(&bot, 6, OTHER, order).await;
    assert!(now_theirs.contains("will be yours"), "{now_theirs}");
    bot.discord
        .wait_for_role(GUILD, OTHER, ROLE, true, WAIT)
        .await;
}

#[tokio::test]
async fn a_checkout_answer_gives_the_role_without_a_claim() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    post_payhip(
        &bot,
        sale("ORDER-C", KEY, |v| {
            v["checkout_questions"] = json!([
                { "question": "Which DAW do you use?", "answer": "Reaper" },
                { "question": "Discord username", "answer": "@Lena.Sounds" },
            ]);
        }),
    )
    .await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, true, WAIT)
        .await;
    bot.discord
        .wait_for_messages_to(&Target::Channel(LOG), 1, WAIT)
        .await;
    let log = log_lines(&bot.discord);
    assert!(
        log[0].contains(&format!("<@{BUYER}>")) && log[0].contains("ORDER-C"),
        "{log:?}"
    );
}

#[tokio::test]
async fn claims_are_rate_limited_per_member() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    for id in 1..=5 {
        let text = claim_as(&bot, id, BUYER, by_order("GUESS", "x@example.com")).await;
        assert!(text.contains("No purchase matches"), "{text}");
    }
    let limited = claim_as(&bot, 6, BUYER, by_order("GUESS", "x@example.com")).await;
    assert!(limited.contains("Too many tries"), "{limited}");
    let other = claim_as(&bot, 7, OTHER, by_order("GUESS", "x@example.com")).await;
    assert!(other.contains("No purchase matches"), "{other}");
}

#[tokio::test]
async fn a_buyer_who_rejoins_gets_the_role_back_when_the_seller_asked() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot_with(&payhip, |r| r.regrant_on_rejoin = true).await;
    let intents = bot.gateway.identifies()[0]["intents"].as_u64().unwrap();
    assert_ne!(intents & (1 << 1), 0, "Server Members intent asked for");
    buyer_claims_order_1(&bot).await;

    bot.discord.remove_member(GUILD, BUYER);
    bot.discord.add_member(GUILD, BUYER, "lena.sounds");
    assert!(bot.discord.member_roles(GUILD, BUYER).is_empty());
    let member = json!({
        "guild_id": GUILD.to_string(),
        "user": { "id": BUYER.to_string(), "username": "lena.sounds", "discriminator": "0",
                  "global_name": null, "avatar": null, "bot": false, "public_flags": 0 },
        "nick": null, "avatar": null, "roles": [],
        "joined_at": "2026-01-01T00:00:00.000000+00:00", "premium_since": null,
        "deaf": false, "mute": false, "flags": 0, "pending": false,
        "communication_disabled_until": null,
    });
    bot.gateway.send_dispatch("GUILD_MEMBER_ADD", member).await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, true, WAIT)
        .await;
}

/// The common start: ORDER-1 is sold and claimed by the buyer, who now holds the role.
pub(crate) async fn buyer_claims_order_1(bot: &Bot) {
    post_payhip(bot, sale("ORDER-1", KEY, |_| {})).await;
    claim_as(bot, 1, BUYER, by_order("ORDER-1", "lena.buyer@example.com")).await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, true, WAIT)
        .await;
}
