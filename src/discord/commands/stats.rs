//! `/stats`: the figures per currency, with a revenue chart.

use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::{defer, to_serenity, CommandError, Context, PeriodChoice, ProviderChoice};
use crate::discord::views;
use crate::stats::{self, Filter, Period};

/// Sales, refunds, net, average order, refund rate and subscriptions, per currency, with a chart.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
#[allow(clippy::too_many_arguments)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "Period (default: month)"] period: Option<PeriodChoice>,
    #[description = "Start date YYYY-MM-DD (instead of a period)"] from: Option<String>,
    #[description = "End date YYYY-MM-DD, included"] to: Option<String>,
    #[description = "Only this product"] product: Option<String>,
    #[description = "Only this provider's store"] provider: Option<ProviderChoice>,
    #[description = "Only this store (by its name)"]
    #[autocomplete = "super::complete_store"]
    store: Option<String>,
    #[description = "Show the answer to everyone in the channel"] public: Option<bool>,
) -> Result<(), CommandError> {
    let public = public.unwrap_or(false);
    defer(ctx, public).await?;
    let state = ctx.data();
    let config = state.config();
    let store = super::store_filter(state, provider, store).map_err(CommandError::User)?;
    let tz = config.discord_config.tz();
    let period = Period::resolve(
        period.map(PeriodChoice::name),
        from.as_deref(),
        to.as_deref(),
        state.clock().now(),
        tz,
    )?;
    let filter = Filter {
        provider: store,
        product,
    };
    let report = stats::report(state.store(), &period, &filter, tz).await?;
    let embed = views::stats_embed(&report, config.embed_colors.new_sale.0);
    let mut reply = CreateReply::default().ephemeral(!public);
    let mut embed = to_serenity(&embed);
    // No sale and no refund: no chart, rather than an empty frame.
    match stats::chart::render(&report) {
        Ok(Some(png)) => {
            reply = reply.attachment(serenity::CreateAttachment::bytes(png, "revenue.png"));
            embed = embed.image("attachment://revenue.png");
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("revenue chart not drawn: {e}"),
    }
    ctx.send(reply.embed(embed)).await?;
    Ok(())
}
