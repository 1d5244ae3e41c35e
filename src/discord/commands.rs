//! Slash commands. Bodies stay thin: parse options, call the library, send the view.

use std::time::Duration;

use chrono::Utc;
use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::message::Embed;
use super::views;
use crate::config::EDITABLE_KEYS;
use crate::db::{millis, DbError, RecentQuery};
use crate::state::AppState;
use crate::stats::{self, Filter, Period, PeriodError};

/// Errors a command can end with. Only `User` text is shown as is; the rest is logged and the
/// caller gets a generic apology.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    User(String),
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error("storage: {0}")]
    Db(#[from] DbError),
    #[error("discord: {0}")]
    Discord(#[from] serenity::Error),
    #[error("internal: {0}")]
    Internal(String),
}

pub type Context<'a> = poise::Context<'a, AppState, CommandError>;

/// Every command, registered with Manage Server as the default permission and usable only inside
/// a server: sales data is private, and in direct messages Discord applies no permission at all,
/// so anyone sharing a server with the bot could ask it for figures.
pub fn all() -> Vec<poise::Command<AppState, CommandError>> {
    vec![
        sales(),
        stats(),
        export(),
        test(),
        config(),
        help(),
        botinfo(),
    ]
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum PeriodChoice {
    #[name = "today"]
    Today,
    #[name = "yesterday"]
    Yesterday,
    #[name = "week"]
    Week,
    #[name = "month"]
    Month,
    #[name = "last-month"]
    LastMonth,
    #[name = "year"]
    Year,
    #[name = "all"]
    All,
}

impl PeriodChoice {
    fn name(self) -> &'static str {
        match self {
            PeriodChoice::Today => "today",
            PeriodChoice::Yesterday => "yesterday",
            PeriodChoice::Week => "week",
            PeriodChoice::Month => "month",
            PeriodChoice::LastMonth => "last-month",
            PeriodChoice::Year => "year",
            PeriodChoice::All => "all",
        }
    }
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum ProviderChoice {
    #[name = "payhip"]
    Payhip,
    #[name = "xsolla"]
    Xsolla,
}

impl ProviderChoice {
    fn name(self) -> &'static str {
        match self {
            ProviderChoice::Payhip => "payhip",
            ProviderChoice::Xsolla => "xsolla",
        }
    }
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum TestChoice {
    #[name = "paid"]
    Paid,
    #[name = "refunded"]
    Refunded,
    #[name = "subscription.created"]
    SubscriptionCreated,
    #[name = "subscription.deleted"]
    SubscriptionDeleted,
}

fn to_serenity(e: &Embed) -> serenity::CreateEmbed {
    let mut out = serenity::CreateEmbed::new().title(&e.title).color(e.color);
    if let Some(d) = &e.description {
        out = out.description(d);
    }
    for f in &e.fields {
        out = out.field(&f.name, &f.value, f.inline);
    }
    if let Some(f) = &e.footer {
        out = out.footer(serenity::CreateEmbedFooter::new(&f.text));
    }
    if let Some(t) = e
        .timestamp
        .as_deref()
        .and_then(|t| serenity::Timestamp::parse(t).ok())
    {
        out = out.timestamp(t);
    }
    out
}

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

/// Sales, refunds, net, average order, refund rate and subscriptions, per currency, with a chart.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
#[allow(clippy::too_many_arguments)]
pub async fn stats(
    ctx: Context<'_>,
    #[description = "Period (default: month)"] period: Option<PeriodChoice>,
    #[description = "Start date YYYY-MM-DD (instead of a period)"] from: Option<String>,
    #[description = "End date YYYY-MM-DD, included"] to: Option<String>,
    #[description = "Only this product"] product: Option<String>,
    #[description = "Only this store"] provider: Option<ProviderChoice>,
    #[description = "Show the answer to everyone in the channel"] public: Option<bool>,
) -> Result<(), CommandError> {
    let public = public.unwrap_or(false);
    defer(ctx, public).await?;
    let state = ctx.data();
    let config = state.config();
    let tz = config.discord_config.tz();
    let period = Period::resolve(
        period.map(PeriodChoice::name),
        from.as_deref(),
        to.as_deref(),
        Utc::now(),
        tz,
    )?;
    let filter = Filter {
        provider: provider.map(|p| p.name().to_owned()),
        product,
    };
    let report = stats::report(state.store(), &period, &filter, tz).await?;
    let embed = views::stats_embed(&report, config.embed_colors.new_sale.0);
    let mut reply = CreateReply::default().ephemeral(!public);
    let mut embed = to_serenity(&embed);
    match views::revenue_chart(&report) {
        Ok(png) => {
            reply = reply.attachment(serenity::CreateAttachment::bytes(png, "revenue.png"));
            embed = embed.image("attachment://revenue.png");
        }
        Err(e) => tracing::warn!("revenue chart not drawn: {e}"),
    }
    ctx.send(reply.embed(embed)).await?;
    Ok(())
}

/// The period's events as a CSV file.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn export(
    ctx: Context<'_>,
    #[description = "Period (default: month)"] period: Option<PeriodChoice>,
    #[description = "Only this store"] provider: Option<ProviderChoice>,
) -> Result<(), CommandError> {
    /// Discord's attachment limit leaves room for about this many rows.
    const MAX_ROWS: i64 = 100_000;
    defer(ctx, false).await?;
    let state = ctx.data();
    let config = state.config();
    let period = Period::resolve(
        period.map(PeriodChoice::name),
        None,
        None,
        Utc::now(),
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
                provider: provider.map(ProviderChoice::name),
                product: None,
                limit: 5_000,
                offset,
            })
            .await?;
        for e in &page {
            csv.push_str(&views::csv_row(e, config.privacy.show_customer));
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
        format!("{total} events ({}).", period.label)
    };
    let name = format!(
        "sales-{}-{}.csv",
        period.label,
        views::now_label(Utc::now())
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

/// Sends a sample event through the real pipeline, marked TEST and never counted.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn test(
    ctx: Context<'_>,
    #[description = "Event type"] r#type: TestChoice,
) -> Result<(), CommandError> {
    let state = ctx.data();
    let kind = match r#type {
        TestChoice::Paid => "paid",
        TestChoice::Refunded => "refunded",
        TestChoice::SubscriptionCreated => "subscription.created",
        TestChoice::SubscriptionDeleted => "subscription.deleted",
    };
    let Some(key) = state.settings().secrets.payhip_api_key.clone() else {
        return Err(CommandError::User(
            "PAYHIP_API_KEY is not set, so the bot cannot accept Payhip webhooks yet.".into(),
        ));
    };
    let provider = state
        .providers()
        .iter()
        .find(|p| p.name() == crate::providers::payhip::NAME)
        .cloned()
        .ok_or_else(|| CommandError::Internal("payhip provider missing".into()))?;
    let body = crate::providers::payhip::sample(kind, &key, Utc::now())
        .ok_or_else(|| CommandError::Internal(format!("no sample for {kind}")))?;
    let bytes = serde_json::to_vec(&body).map_err(|e| CommandError::Internal(e.to_string()))?;
    let result =
        crate::webhook::intake(state, provider.as_ref(), &Default::default(), &bytes).await;
    let text = match result {
        Ok(_) => format!("A test `{kind}` event went through the pipeline; its notice (marked TEST) is on its way. It is not counted in stats."),
        Err(e) => {
            tracing::warn!("/test failed: {e}");
            return Err(CommandError::User("The test event was not accepted; see the bot's log.".into()));
        }
    };
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

/// Show or change the bot's settings.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands("config_show", "config_set")
)]
pub async fn config(_ctx: Context<'_>) -> Result<(), CommandError> {
    Ok(())
}

/// The current settings (secrets and webhook URLs are never shown).
#[poise::command(slash_command, rename = "show")]
pub async fn config_show(ctx: Context<'_>) -> Result<(), CommandError> {
    let c = ctx.data().config();
    let channel =
        |id: Option<u64>| id.map_or_else(|| "not set".to_owned(), |id| format!("<#{id}>"));
    let toggles = |t: &crate::config::EventTypes| {
        format!(
            "sales {} · refunds {} · subscriptions {}",
            on(t.new_sale),
            on(t.refund),
            on(t.subscriptions)
        )
    };
    let text = format!(
        "**Channels**: sales {} · refunds {} · subscriptions {}\n**Payhip**: {}\n**Xsolla**: {}\n**Colors**: sales #{:06X} · refunds #{:06X} · subscriptions #{:06X}\n**Webhook URLs**: {} / {} / {}\n**Show customers**: {}\n**Time zone**: {}",
        channel(c.discord_config.sales_channel_id),
        channel(c.discord_config.refunds_channel_id),
        channel(c.discord_config.subscriptions_channel_id),
        toggles(&c.payhip_config.event_types),
        toggles(&c.xsolla_config.event_types),
        c.embed_colors.new_sale.0,
        c.embed_colors.refund.0,
        c.embed_colors.subscription.0,
        c.notifications.new_sale.webhook_urls.len(),
        c.notifications.refund.webhook_urls.len(),
        c.notifications.subscription.webhook_urls.len(),
        on(c.privacy.show_customer),
        c.discord_config.timezone.as_deref().unwrap_or("UTC"),
    );
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

fn on(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

async fn autocomplete_key(
    _ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let partial = partial.to_ascii_lowercase();
    let choices = EDITABLE_KEYS
        .iter()
        .filter(|k| k.to_ascii_lowercase().contains(&partial))
        .map(|k| serenity::AutocompleteChoice::from(*k))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Change one setting; config.json is rewritten with every other key kept.
#[poise::command(slash_command, rename = "set")]
pub async fn config_set(
    ctx: Context<'_>,
    #[description = "Setting"]
    #[autocomplete = "autocomplete_key"]
    key: String,
    #[description = "New value"] value: String,
) -> Result<(), CommandError> {
    let state = ctx.data();
    let Some(path) = state.settings().config_path.clone() else {
        return Err(CommandError::User(
            "This bot was started without a config file to write to.".into(),
        ));
    };
    let original = std::fs::read_to_string(&path)
        .map_err(|e| CommandError::Internal(format!("reading config: {e}")))?;
    let (text, config) = crate::config::edit(&original, &key, &value).map_err(|problems| {
        CommandError::User(
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })?;
    crate::config::write_atomically(&path, &text)
        .map_err(|e| CommandError::Internal(format!("writing config: {e}")))?;
    state.replace_config(config);
    tracing::info!(%key, "config changed from Discord by user {}", ctx.author().id);
    ctx.send(
        CreateReply::default()
            .content(format!("`{key}` is now `{value}`."))
            .ephemeral(true),
    )
    .await?;
    Ok(())
}

/// What each command does.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn help(ctx: Context<'_>) -> Result<(), CommandError> {
    let text = "\
**/sales** `[count] [filter] [product] [provider] [public]`: recent sales, refunds and subscriptions, 10 per page.
**/stats** `[period] [from] [to] [product] [provider] [public]`: figures per currency with a revenue chart.
**/export** `[period] [provider]`: the period's events as a CSV file.
**/test** `type`: a sample event through the pipeline, marked TEST, never counted.
**/config show** · **/config set** `key value`: view or change settings.
**/botinfo**: version, uptime and delivery health.
Answers are private unless you pass `public: true`.";
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

/// Version, uptime, events stored and the state of notice delivery.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn botinfo(ctx: Context<'_>) -> Result<(), CommandError> {
    let state = ctx.data();
    let counts = state.store().table_counts().await?;
    let outbox = state.store().outbox_counts().await?;
    let last = state.store().last_received().await?;
    let uptime = state.uptime().as_secs();
    let text = format!(
        "**integrations-bot** {}\nUptime: {}h {}m\nDatabase: {}\nEvents stored: {} ({} sales, {} refunds)\nLast webhook: {}\nNotices pending: {} · dead-lettered: {}",
        env!("CARGO_PKG_VERSION"),
        uptime / 3600,
        (uptime % 3600) / 60,
        state.store().backend_name(),
        counts.events,
        counts.sales,
        counts.refunds,
        last.map_or_else(|| "never".to_owned(), |ms| format!("<t:{}:R>", ms / 1000)),
        outbox.pending,
        outbox.dead,
    );
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

/// Answers within Discord's 3 seconds; the real answer follows.
async fn defer(ctx: Context<'_>, public: bool) -> Result<(), CommandError> {
    if public {
        ctx.defer().await?;
    } else {
        ctx.defer_ephemeral().await?;
    }
    Ok(())
}

/// With `discordConfig.guildId` set, commands answer in that server only: copies registered
/// globally earlier (Discord keeps them) would otherwise let another server's managers read this
/// store's figures.
pub async fn in_own_server(ctx: Context<'_>) -> Result<bool, CommandError> {
    let own = ctx.data().config().discord_config.guild_id;
    Ok(match (own, ctx.guild_id()) {
        (Some(own), Some(here)) => here.get() == own,
        _ => true,
    })
}

/// Shown privately to the caller when a command fails or is refused.
pub async fn on_error(error: poise::FrameworkError<'_, AppState, CommandError>) {
    let refusal = match &error {
        poise::FrameworkError::GuildOnly { ctx, .. } => Some((
            *ctx,
            "This command works only inside a server: the bot does not show sales data in direct messages.",
        )),
        poise::FrameworkError::CommandCheckFailed { ctx, .. } => Some((
            *ctx,
            "This bot's commands work only in the server it is set up for.",
        )),
        _ => None,
    };
    if let Some((ctx, text)) = refusal {
        tracing::info!(command = %ctx.command().qualified_name, user = %ctx.author().id, "command refused: {text}");
        if let Err(e) = ctx
            .send(CreateReply::default().content(text).ephemeral(true))
            .await
        {
            tracing::warn!("cannot report a refused command: {e}");
        }
        return;
    }
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let text = match &error {
                CommandError::User(m) => m.clone(),
                CommandError::Period(e) => e.to_string(),
                other => {
                    tracing::error!(command = %ctx.command().qualified_name, "command failed: {other}");
                    "Something went wrong; the details are in the bot's log.".to_owned()
                }
            };
            if let Err(e) = ctx
                .send(CreateReply::default().content(text).ephemeral(true))
                .await
            {
                tracing::warn!("cannot report a command error: {e}");
            }
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::warn!("error while handling an error: {e}");
            }
        }
    }
}
