//! `/export`: the period's events as a CSV file.

use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::{defer, CommandError, Context, PeriodChoice, ProviderChoice};
use crate::db::{millis, RecentQuery};
use crate::discord::views;
use crate::stats::Period;

/// The period's events as a CSV file.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn export(
    ctx: Context<'_>,
    #[description = "Period (default: month)"] period: Option<PeriodChoice>,
    #[description = "Only this provider's store"] provider: Option<ProviderChoice>,
    #[description = "Only this store (by its name)"]
    #[autocomplete = "super::complete_store"]
    store: Option<String>,
) -> Result<(), CommandError> {
    /// Discord's attachment limit leaves room for about this many rows.
    const MAX_ROWS: i64 = 100_000;
    defer(ctx, false).await?;
    let state = ctx.data();
    let config = state.config();
    let store = super::store_filter(state, provider, store).map_err(CommandError::User)?;
    let period = Period::resolve(
        period.map(PeriodChoice::name),
        None,
        None,
        state.clock().now(),
        config.discord_config.tz(),
    )?;
    let mut csv = String::from(views::CSV_HEADER);
    let mut offset = 0;
    let total = loop {
        let (page, total) = state
            .store()
            .recent(&RecentQuery {
                from: millis(period.from),
                to: millis(period.to),
                provider: store.as_deref(),
                product: None,
                limit: 5_000,
                offset,
            })
            .await?;
        for e in &page {
            csv.push_str(&views::csv_row(
                e,
                config.privacy.show_customer,
                config.discord_config.tz(),
            ));
        }
        offset += page.len() as i64;
        if page.is_empty() || offset >= total || offset >= MAX_ROWS {
            break total;
        }
    };
    let note = if offset < total {
        format!(
            "First {offset} of {total} events ({}) — use a shorter period for the rest.",
            period.label
        )
    } else {
        format!(
            "{} ({}).",
            crate::stats::words::count(total, "event", "events"),
            period.label
        )
    };
    let name = format!(
        "sales-{}-{}.csv",
        period.label,
        views::now_label(state.clock().now())
    );
    ctx.send(
        CreateReply::default()
            .content(note)
            .attachment(serenity::CreateAttachment::bytes(csv.into_bytes(), name))
            .ephemeral(true),
    )
    .await?;
    Ok(())
}
