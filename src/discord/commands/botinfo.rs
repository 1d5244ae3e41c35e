//! `/botinfo`: version, uptime and delivery health.

use poise::CreateReply;

use super::{CommandError, Context};
use crate::stats::words::count;

/// Version, uptime, events stored and the state of notice delivery.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn botinfo(ctx: Context<'_>) -> Result<(), CommandError> {
    let state = ctx.data();
    let counts = state.store().table_counts().await?;
    let outbox = state.store().outbox_counts().await?;
    let last = state.store().last_received().await?;
    let uptime = state.uptime().as_secs();
    let text = format!(
        "**integrations-bot** {}\nUptime: {}h {}m\nDatabase: {}\nEvents stored: {} ({}, {})\nLast webhook: {}\nNotices pending: {} · dead-lettered: {}",
        env!("CARGO_PKG_VERSION"),
        uptime / 3600,
        (uptime % 3600) / 60,
        state.store().backend_name(),
        counts.events,
        count(counts.sales, "sale", "sales"),
        count(counts.refunds, "refund", "refunds"),
        last.map_or_else(|| "never".to_owned(), |ms| format!("<t:{}:R>", ms / 1000)),
        outbox.pending,
        outbox.dead,
    );
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}
