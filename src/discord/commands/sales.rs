//! `/sales`: recent events, paged with buttons.

use std::time::Duration;

use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::{defer, to_serenity, CommandError, Context, PeriodChoice, ProviderChoice};
use crate::db::{millis, RecentQuery};
use crate::discord::views;
use crate::stats::Period;

/// Recent sales, refunds and subscription events, newest first, paged with buttons.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn sales(
    ctx: Context<'_>,
    #[description = "Events per page (1-20, default 10)"]
    #[min = 1]
    #[max = 20]
    count: Option<u32>,
    #[description = "Period (default: all)"] filter: Option<PeriodChoice>,
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
    // Resolved once: the pages list what had happened when the command ran, so turning them
    // while new sales arrive neither repeats nor skips a line.
    let period = Period::resolve(
        Some(filter.map_or("all", PeriodChoice::name)),
        None,
        None,
        state.clock().now(),
        config.discord_config.tz(),
    )?;
    let per_page = count.map_or(views::PAGE_SIZE, |c| c.clamp(1, 20) as usize);
    let color = config.embed_colors.new_sale.0;
    let title = format!("Recent sales ({})", period.label);
    // One page read from the database, and how many events match in all.
    let page_at = |page: usize| {
        let (state, config, period, product, store, title) = (
            state,
            &config,
            &period,
            product.as_deref(),
            store.as_deref(),
            &title,
        );
        async move {
            let offset = page * per_page;
            let (events, total) = state
                .store()
                .recent(&RecentQuery {
                    from: millis(period.from),
                    to: millis(period.to),
                    provider: store,
                    product,
                    limit: per_page as i64,
                    offset: offset as i64,
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
            let total = usize::try_from(total).unwrap_or(0);
            let embed = views::sales_page(&lines, offset, per_page, total, color, title);
            Ok::<_, CommandError>((to_serenity(&embed), total.div_ceil(per_page).max(1)))
        }
    };
    let (embed, mut pages) = page_at(0).await?;
    if pages == 1 {
        ctx.send(CreateReply::default().embed(embed).ephemeral(!public))
            .await?;
        return Ok(());
    }
    let id = ctx.id();
    let buttons = |page: usize, pages: usize, disabled: bool| {
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
                .embed(embed.clone())
                .components(buttons(0, pages, false))
                .ephemeral(!public),
        )
        .await?;
    let mut page = 0usize;
    let mut shown = embed;
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
        (shown, pages) = page_at(page).await?;
        page = page.min(pages - 1);
        press
            .create_response(
                ctx,
                serenity::CreateInteractionResponse::UpdateMessage(
                    serenity::CreateInteractionResponseMessage::new()
                        .embed(shown.clone())
                        .components(buttons(page, pages, false)),
                ),
            )
            .await?;
    }
    // Five minutes without a press: the buttons go grey rather than fail when clicked.
    reply
        .edit(
            ctx,
            CreateReply::default()
                .embed(shown)
                .components(buttons(page, pages, true)),
        )
        .await?;
    Ok(())
}
