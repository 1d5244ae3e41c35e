//! `/replay-rejected`: the same as `integrations-bot replay-rejected`, for staff in Discord.

use poise::CreateReply;

use super::{CommandError, Context};

/// Take in webhooks refused for their signature that now verify (after a key change).
#[poise::command(
    slash_command,
    guild_only,
    rename = "replay-rejected",
    default_member_permissions = "MANAGE_GUILD"
)]
pub async fn replay_rejected(ctx: Context<'_>) -> Result<(), CommandError> {
    ctx.defer_ephemeral().await?;
    let replayed = crate::quarantine::replay(ctx.data()).await?;
    ctx.send(
        CreateReply::default()
            .content(replayed.summary())
            .ephemeral(true),
    )
    .await?;
    Ok(())
}
