//! `/sales`: recent events, paged with buttons.

use std::time::Duration;

use chrono::Utc;
use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::{defer, to_serenity, CommandError, Context, PeriodChoice, ProviderChoice};
use crate::db::{millis, RecentQuery};
use crate::discord::views;
use crate::stats::Period;

/// Recent sales, refunds and subscription events, 10 per page.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn sales(
    ctx: Context<'_>,
    #[description = "How many events (1-100, default 10)"]
    #[min = 1]
    #[max = 100]
    count: Option<u32>,
    #[description = "Period (default: all)"] filter: Option<PeriodChoice>,
    #[description = "Only this product"] product: Option<String>,
    #[description = "Only this store"] provider: Option<ProviderChoice>,
    #[description = "Show the answer to everyone in the channel"] public: Option<bool>,
) -> Result<(), CommandError> {
    let public = public.unwrap_or(false);
    defer(ctx, public).await?;
    let state = ctx.data();
    let config = state.config();
    let period = Period::resolve(
        Some(filter.map_or("all", PeriodChoice::name)),
        None,
        None,
        Utc::now(),
        config.discord_config.tz(),
    )?;
    let (events, total) = state
        .store()
        .recent(&RecentQuery {
            from: millis(period.from),
            to: millis(period.to),
            provider: provider.map(ProviderChoice::name),
            product: product.as_deref(),
            limit: i64::from(count.unwrap_or(10).clamp(1, 100)),
            offset: 0,
        })
        .await?;
    let lines: Vec<String> = events
        .iter()
        .map(|e| {
            views::sales_line(
                &e.event,
                &state.provider_label(&e.event.provider),
                config.privacy.show_customer,
            )
        })
        .collect();
    let color = config.embed_colors.new_sale.0;
    let title = format!("Recent sales ({})", period.label);
    let pages = lines.len().div_ceil(views::PAGE_SIZE).max(1);
    let page_embed =
        |page: usize| to_serenity(&views::sales_page(&lines, page, total, color, &title));
    if pages == 1 {
        ctx.send(
            CreateReply::default()
                .embed(page_embed(0))
                .ephemeral(!public),
        )
        .await?;
        return Ok(());
    }
    let id = ctx.id();
    let buttons = |page: usize, disabled: bool| {
        let b = |name: &str, label: &str, off: bool| {
            serenity::CreateButton::new(format!("{id}:{name}"))
                .label(label)
                .style(serenity::ButtonStyle::Secondary)
                .disabled(disabled || off)
        };
        vec![serenity::CreateActionRow::Buttons(vec![
            b("first", "⏮ First", page == 0),
            b("prev", "◀ Previous", page == 0),
            b("next", "Next ▶", page + 1 >= pages),
            b("last", "Last ⏭", page + 1 >= pages),
        ])]
    };
    let reply = ctx
        .send(
            CreateReply::default()
                .embed(page_embed(0))
                .components(buttons(0, false))
                .ephemeral(!public),
        )
        .await?;
    let mut page = 0usize;
    let author = ctx.author().id;
    let prefix = format!("{id}:");
    loop {
        let prefix = prefix.clone();
        let Some(press) = serenity::ComponentInteractionCollector::new(ctx)
            .filter(move |p| p.data.custom_id.starts_with(&prefix))
            .timeout(Duration::from_secs(5 * 60))
            .await
        else {
            break;
        };
        if press.user.id != author {
            press
                .create_response(
                    ctx,
                    serenity::CreateInteractionResponse::Message(
                        serenity::CreateInteractionResponseMessage::new()
                            .content("Only the person who ran /sales can turn its pages.")
                            .ephemeral(true),
                    ),
                )
                .await?;
            continue;
        }
        page = match press.data.custom_id.rsplit(':').next() {
            Some("first") => 0,
            Some("prev") => page.saturating_sub(1),
            Some("next") => (page + 1).min(pages - 1),
            Some("last") => pages - 1,
            _ => page,
        };
        press
            .create_response(
                ctx,
                serenity::CreateInteractionResponse::UpdateMessage(
                    serenity::CreateInteractionResponseMessage::new()
                        .embed(page_embed(page))
                        .components(buttons(page, false)),
                ),
            )
            .await?;
    }
    // Five minutes without a press: the buttons go grey rather than fail when clicked.
    reply
        .edit(
            ctx,
            CreateReply::default()
                .embed(page_embed(page))
                .components(buttons(page, true)),
        )
        .await?;
    Ok(())
}
