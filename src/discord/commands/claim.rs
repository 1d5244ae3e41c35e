//! `/claim` for buyers and `/claims` for staff. The work is in [`crate::roles::claim`]; this file
//! reads the options and words the answers.

use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::{CommandError, Context};
use crate::roles::claim::{self, Claimant, Claimed};

/// Get the Discord role of something you bought: give its license key, or its order id and email.
#[poise::command(slash_command, guild_only)]
pub async fn claim(
    ctx: Context<'_>,
    #[description = "The license key you received with your purchase"] license_key: Option<String>,
    #[description = "The order (transaction) id from your receipt"] order_id: Option<String>,
    #[description = "The email you bought with (with order_id)"] email: Option<String>,
) -> Result<(), CommandError> {
    let state = ctx.data();
    let config = state.config();
    let (Some(guild), true) = (ctx.guild_id(), config.roles.enabled()) else {
        return reply(ctx, "This server gives no roles for purchases.").await;
    };
    let user = ctx.author().id.get();
    if let Err(wait) = state.claim_limiter().attempt(user, state.clock().instant()) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return reply(
            ctx,
            &format!("Too many tries. Please wait {minutes} minute(s) before trying again."),
        )
        .await;
    }
    let who = Claimant {
        guild: guild.get(),
        user,
    };
    ctx.defer_ephemeral().await?;
    let (outcome, what) = match (license_key, order_id, email) {
        (Some(key), None, None) => (claim::by_key(state, who, &key).await?, "license key"),
        (None, Some(order), Some(email)) => (
            claim::by_order(state, who, &order, &email).await?,
            "order id and email",
        ),
        _ => {
            return reply(
                ctx,
                "Give either `license_key`, or `order_id` together with `email`.",
            )
            .await
        }
    };
    let text = answer(&outcome, what);
    if !matches!(outcome, Claimed::Granted { .. }) {
        staff_log(
            ctx,
            &format!("Refused a /claim by <@{user}> ({what}): {text}"),
        )
        .await;
    }
    reply(ctx, &text).await
}

fn answer(outcome: &Claimed, what: &str) -> String {
    match outcome {
        Claimed::Granted { roles, again } => {
            let list = mentions(roles);
            if *again {
                format!("This purchase is already yours: {list} will be given back in a moment.")
            } else {
                format!("Thank you! {list} will be yours in a moment.")
            }
        }
        Claimed::TakenByOther => "This purchase is already linked to another member. If that is not right, ask a staff member to unlink it.".into(),
        Claimed::Ended => "This purchase was refunded or cancelled, so it no longer gives a role.".into(),
        Claimed::NotFound if what == "license key" => "This license key is not valid for any product of this server.".into(),
        Claimed::NotFound => "No purchase matches that order id and email. Check both on your receipt.".into(),
        Claimed::Disabled => "This license key has been disabled by the seller.".into(),
        Claimed::NoRole => "This purchase does not come with a role in this server.".into(),
        Claimed::Unavailable => "The license check cannot reach Payhip right now. Try again in a few minutes, or use your order id and email.".into(),
    }
}

fn mentions(roles: &[u64]) -> String {
    roles
        .iter()
        .map(|r| format!("<@&{r}>"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn reply(ctx: Context<'_>, text: &str) -> Result<(), CommandError> {
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

/// A line in `roles.logChannelId`, mentioning nobody. Best effort.
async fn staff_log(ctx: Context<'_>, text: &str) {
    let Some(channel) = ctx.data().config().roles.log_channel_id else {
        return;
    };
    let message = serenity::CreateMessage::new()
        .content(text)
        .allowed_mentions(serenity::CreateAllowedMentions::new());
    if let Err(e) = serenity::ChannelId::new(channel)
        .send_message(ctx.http(), message)
        .await
    {
        tracing::warn!("cannot write to the roles log channel: {e}");
    }
}

/// Look up or unlink the purchases members claimed.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands("claims_lookup", "claims_unbind")
)]
pub async fn claims(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// Who claimed a purchase, or what a member claimed.
#[poise::command(slash_command, rename = "lookup")]
pub async fn claims_lookup(
    ctx: Context<'_>,
    #[description = "The order (transaction) or subscription id"] order_id: Option<String>,
    #[description = "A member"] member: Option<serenity::User>,
) -> Result<(), CommandError> {
    let state = ctx.data();
    let store = state.store();
    let rows = match (order_id, member, ctx.guild_id()) {
        (Some(order), _, _) => store.claims_of_purchase(order.trim()).await?,
        (None, Some(member), Some(guild)) => {
            store.claims_of_member(guild.get(), member.id.get()).await?
        }
        _ => return reply(ctx, "Give an `order_id` or a `member`.").await,
    };
    if rows.is_empty() {
        return reply(ctx, "No claim found.").await;
    }
    let lines: Vec<String> = rows
        .iter()
        .take(20)
        .map(|c| {
            let status = match (&c.status[..], &c.ended_reason) {
                ("live", _) => "live".to_owned(),
                (s, Some(why)) => format!("{s} ({why})"),
                (s, None) => s.to_owned(),
            };
            if c.user == 0 {
                return format!(
                    "`{}` ({}) → nobody: {status} before anyone claimed it",
                    c.purchase, c.provider
                );
            }
            format!(
                "`{}` ({}) → <@{}> · {} · {} · via {} · <t:{}:f>",
                c.purchase,
                c.provider,
                c.user,
                mentions(&c.roles),
                status,
                c.via,
                c.claimed_at / 1000
            )
        })
        .collect();
    reply(ctx, &lines.join("\n")).await
}

/// Unlink a purchase from its member, who loses the roles no other purchase gives.
#[poise::command(slash_command, rename = "unbind")]
pub async fn claims_unbind(
    ctx: Context<'_>,
    #[description = "The order (transaction) or subscription id"] order_id: Option<String>,
    #[description = "A member: every purchase they claimed"] member: Option<serenity::User>,
) -> Result<(), CommandError> {
    let state = ctx.data();
    let store = state.store();
    let staff = ctx.author().id.get();
    let reason = format!("unlinked by staff member {}", ctx.author().name);
    let now = state.clock().now_ms();
    let purchases: Vec<(Option<String>, String)> = match (order_id, member, ctx.guild_id()) {
        (Some(order), _, _) => vec![(None, order.trim().to_owned())],
        (None, Some(member), Some(guild)) => store
            .claims_of_member(guild.get(), member.id.get())
            .await?
            .into_iter()
            .filter(|c| c.status == "live")
            .map(|c| (Some(c.provider), c.purchase))
            .collect(),
        _ => return reply(ctx, "Give an `order_id` or a `member`.").await,
    };
    let mut unlinked = 0;
    for (provider, purchase) in &purchases {
        let ended = store
            .end_claims(provider.as_deref(), purchase, "unbound", &reason, now, None)
            .await?;
        unlinked += ended.map_or(0, |e| e.len());
    }
    state.outbox_wakeup().notify_one();
    let text = if unlinked == 0 {
        "Nothing to unlink: no live claim found.".to_owned()
    } else {
        format!("Unlinked {unlinked} purchase(s). Roles no other purchase gives are being removed; the purchase can be claimed again.")
    };
    staff_log(ctx, &format!("<@{staff}> unlinked {unlinked} purchase(s).")).await;
    reply(ctx, &text).await
}
