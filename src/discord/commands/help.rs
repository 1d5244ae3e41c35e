//! `/help`: what each command does.

use poise::CreateReply;

use super::{CommandError, Context};

/// What each command does.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn help(ctx: Context<'_>) -> Result<(), CommandError> {
    let text = "\
**/sales** `[count] [filter] [product] [provider] [public]`: recent sales, refunds and subscriptions, `count` per page (10 by default).
**/stats** `[period] [from] [to] [product] [provider] [public]`: figures per currency with a chart of sales and refunds.
**/export** `[period] [provider]`: the period's events as a CSV file.
**/test** `type`: a sample event through the pipeline, marked TEST, never counted.
**/config show** (or **/configoptions**) · **/config set** `key value`: view or change settings.
**/botinfo**: version, uptime and delivery health.
**/ping**: gateway heartbeat and API round trip.
**/replay-rejected**: after changing a store's key, take in the sales refused for their signature meanwhile (each once).
**/claim** `license_key` or `order_id email`: buyers get the Discord role of their purchase (any member may use it).
**/claims lookup** · **/claims unbind** `order_id` or `member`: who claimed a purchase; unlink it.
Answers are private unless you pass `public: true`.";
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}
