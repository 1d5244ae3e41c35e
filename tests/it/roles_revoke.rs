//! Roles taken back end to end: refunds, chargebacks and cancellations, a role kept through a
//! second purchase, a role Discord will not let the bot change, and a restart in between.

use integrations_bot::config::Secret;
use serde_json::json;

use crate::commands::{Bot, GUILD, WAIT};
use crate::roles::*;
use crate::support::discord::{FakeDiscord, Scripted, Target};
use crate::support::gateway::FakeGateway;
use crate::support::payhip_api::FakePayhip;
use crate::support::*;

#[tokio::test]
async fn refunds_chargebacks_and_cancellations_take_the_role_back() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    // A partial refund keeps the role; the full one takes it.
    buyer_claims_order_1(&bot).await;
    post_payhip(&bot, refund("ORDER-1", 400)).await;
    post_payhip(&bot, refund("ORDER-1", 1476)).await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, false, WAIT)
        .await;
    let deletes = bot
        .discord
        .role_requests()
        .into_iter()
        .filter(|r| r.0 == "DELETE")
        .count();
    assert_eq!(deletes, 1, "removed once, after the full refund");

    // A membership ends with its cancellation.
    let mut created = fixture("payhip/subscription_created.json");
    created["signature"] = json!(payhip_signature(PAYHIP_KEY));
    post_payhip(&bot, serde_json::to_vec(&created).unwrap()).await;
    let text = claim_as(&bot, 2, OTHER, by_order("SUB-77", "member@example.com")).await;
    assert!(text.contains(&format!("<@&{MEMBER_ROLE}>")), "{text}");
    bot.discord
        .wait_for_role(GUILD, OTHER, MEMBER_ROLE, true, WAIT)
        .await;
    post_payhip(&bot, payhip_signed("subscription_deleted")).await;
    bot.discord
        .wait_for_role(GUILD, OTHER, MEMBER_ROLE, false, WAIT)
        .await;

    // A chargeback (Xsolla's refund code 2) ends an Xsolla purchase.
    let (body, auth) = xsolla_signed("payment");
    xsolla_post(&bot, body, &auth).await;
    let text = claim_as(&bot, 3, BUYER, by_order("871234567", "nova@example.com")).await;
    assert!(text.contains(&format!("<@&{VIP}>")), "{text}");
    bot.discord
        .wait_for_role(GUILD, BUYER, VIP, true, WAIT)
        .await;
    let mut chargeback = fixture("xsolla/refund.json");
    chargeback["refund_details"] = json!({ "code": 2, "reason": "Chargeback" });
    let body = serde_json::to_vec(&chargeback).unwrap();
    let sig = integrations_bot::providers::xsolla::signature(&body, &Secret::new(XSOLLA_SECRET));
    xsolla_post(&bot, body, &format!("Signature {sig}")).await;
    bot.discord
        .wait_for_role(GUILD, BUYER, VIP, false, WAIT)
        .await;
}

async fn xsolla_post(bot: &Bot, body: Vec<u8>, auth: &str) {
    let request = axum::http::Request::post("/webhook/xsolla")
        .header("content-type", "application/json")
        .header("authorization", auth)
        .body(axum::body::Body::from(body))
        .unwrap();
    let (status, text) = bot.app.oneshot(request).await;
    assert!(status.is_success(), "{status} {text}");
}

#[tokio::test]
async fn a_role_held_through_a_second_purchase_is_kept() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    post_payhip(&bot, sale("ORDER-1", "KEY-1", |_| {})).await;
    post_payhip(&bot, sale("ORDER-2", "KEY-2", |_| {})).await;
    claim_as(
        &bot,
        1,
        BUYER,
        by_order("ORDER-1", "lena.buyer@example.com"),
    )
    .await;
    claim_as(
        &bot,
        2,
        BUYER,
        by_order("ORDER-2", "lena.buyer@example.com"),
    )
    .await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, true, WAIT)
        .await;
    post_payhip(&bot, refund("ORDER-1", 1476)).await;
    // The refund's decision is logged for staff; the role stays until the second one ends too.
    wait_for_log(&bot.discord, "ORDER-1 refunded").await;
    let lookup = staff(
        &bot,
        3,
        "lookup",
        json!([{ "name": "order_id", "type": 3, "value": "ORDER-1" }]),
    )
    .await;
    assert!(lookup.contains("ended"), "{lookup}");
    assert!(bot.discord.member_roles(GUILD, BUYER).contains(&ROLE));
    post_payhip(&bot, refund("ORDER-2", 1476)).await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, false, WAIT)
        .await;
    let deletes = bot
        .discord
        .role_requests()
        .into_iter()
        .filter(|r| r.0 == "DELETE")
        .count();
    assert_eq!(deletes, 1);
}

#[tokio::test]
async fn a_role_above_the_bots_is_set_aside_with_the_fix() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    bot.discord.script_roles([Scripted::Status(403)]);
    post_payhip(&bot, sale("ORDER-1", KEY, |_| {})).await;
    claim_as(
        &bot,
        1,
        BUYER,
        by_order("ORDER-1", "lena.buyer@example.com"),
    )
    .await;
    bot.discord
        .wait_for_messages_to(&Target::Channel(LOG), 1, WAIT)
        .await;
    let log = log_lines(&bot.discord);
    assert!(
        log.iter()
            .any(|l| l.contains("move the bot's role above")
                && l.contains("Server Settings → Roles")),
        "{log:?}"
    );
    let rows = bot.app.store().outbox_rows().await.unwrap();
    let dead: Vec<_> = rows.iter().filter(|r| r.status == "dead").collect();
    assert_eq!(dead.len(), 1, "{rows:?}");
    assert!(dead[0]
        .last_error
        .as_deref()
        .unwrap_or_default()
        .contains("Server Settings → Roles"));
    assert!(bot.discord.member_roles(GUILD, BUYER).is_empty());
}

#[tokio::test]
async fn a_removal_waiting_at_shutdown_is_made_after_the_restart() {
    let payhip = FakePayhip::start().await;
    let bot = roles_bot(&payhip).await;
    buyer_claims_order_1(&bot).await;

    bot.discord.set_down(true);
    post_payhip(&bot, refund("ORDER-1", 1476)).await;
    bot.discord
        .wait_for_request("a failed removal", WAIT, |r| {
            r.method == "DELETE" && r.status == 503
        })
        .await;
    let Bot {
        app,
        discord,
        gateway,
    } = bot;
    let url = app.running.state.settings().database_url.clone();
    let dir = app.stop().await;
    discord.set_down(false);
    assert!(discord.member_roles(GUILD, BUYER).contains(&ROLE));

    let bot = restart(dir, &url, discord, gateway, &payhip).await;
    bot.discord
        .wait_for_role(GUILD, BUYER, ROLE, false, WAIT)
        .await;
}

async fn restart(
    dir: tempfile::TempDir,
    url: &str,
    discord: FakeDiscord,
    gateway: FakeGateway,
    payhip: &FakePayhip,
) -> Bot {
    let base = discord.base();
    let payhip_base = payhip.base();
    let app = TestApp::start_with(
        dir,
        url,
        |c| {
            c.discord_config.guild_id = Some(GUILD);
            c.payhip_config.event_types.new_sale = false;
            c.payhip_config.event_types.refund = false;
            c.roles = roles();
        },
        |e| {
            e.secrets.discord_token = Some(Secret::new("fake-bot-token"));
            e.discord_api_base = Some(base);
            e.payhip_api_base = Some(payhip_base);
        },
    )
    .await;
    Bot {
        app,
        discord,
        gateway,
    }
}

#[tokio::test]
async fn a_claim_bound_after_the_refund_was_decided_is_refused() {
    // The claim's own refund check ran before the refund was stored; binding still sees it.
    let app = TestApp::start(|c| {
        c.discord_config.guild_id = Some(GUILD);
        c.roles = roles();
    })
    .await;
    for body in [sale("ORDER-1", KEY, |_| {}), refund("ORDER-1", 1476)] {
        let (status, _) = app.post("/webhook/payhip", body).await;
        assert!(status.is_success());
    }
    let store = app.store().clone();
    eventually("the refund's decision", WAIT, || {
        let store = store.clone();
        async move { store.outbox_counts().await.unwrap().pending == 0 }
    })
    .await;
    let claim = integrations_bot::db::NewClaim {
        provider: "payhip",
        purchase: "ORDER-1",
        event_id: 1,
        guild: GUILD,
        user: BUYER,
        roles: &[ROLE],
        via: "order",
        reason: "test",
        now: 1,
    };
    let bound = store.bind_claim(&claim, None).await.unwrap();
    assert!(
        matches!(bound, integrations_bot::db::Bound::Ended(_)),
        "{bound:?}"
    );
    let rows = store.outbox_rows().await.unwrap();
    assert!(
        rows.iter().all(|r| !r.destination.starts_with("role:")),
        "no grant queued: {rows:?}"
    );
    app.stop().await;
}
