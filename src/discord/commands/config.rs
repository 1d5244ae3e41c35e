//! `/config show` and `/config set`.

use poise::serenity_prelude as serenity;
use poise::CreateReply;

use super::{CommandError, Context};
use crate::config::{Config, Secrets, EDITABLE_KEYS};

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
    show(ctx).await
}

/// The current settings, under the name the JavaScript bot used.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn configoptions(ctx: Context<'_>) -> Result<(), CommandError> {
    show(ctx).await
}

async fn show(ctx: Context<'_>) -> Result<(), CommandError> {
    let state = ctx.data();
    let text = settings_text(&state.config(), &state.settings().secrets);
    ctx.send(CreateReply::default().content(text).ephemeral(true))
        .await?;
    Ok(())
}

/// What `/config show` lists. A store appears only once it is set up (its secret is set), so a
/// Payhip seller is not shown Xsolla switches that do nothing.
fn settings_text(c: &Config, secrets: &Secrets) -> String {
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
    let mut stores = Vec::new();
    if secrets.payhip_api_key.is_some() && !c.section_replaced("payhip") {
        stores.push(format!(
            "**Payhip**: {}",
            toggles(&c.payhip_config.event_types)
        ));
    }
    if secrets.xsolla_secret_key.is_some() && !c.section_replaced("xsolla") {
        stores.push(format!(
            "**Xsolla**: {}",
            toggles(&c.xsolla_config.event_types)
        ));
    }
    for listed in &c.listed {
        let set_up = listed
            .secret_var()
            .and_then(|var| crate::providers::registry::secret(secrets, var))
            .is_some();
        if set_up {
            stores.push(format!(
                "**Store {}** ({}): {}",
                crate::notice::escape::text(&listed.name),
                listed.provider,
                toggles(&listed.settings.event_types)
            ));
        }
    }
    if stores.is_empty() {
        stores.push(
            "**Stores**: none set up yet (set PAYHIP_API_KEY or XSOLLA_SECRET_KEY and restart)"
                .to_owned(),
        );
    }
    format!(
        "**Channels**: sales {} · refunds {} · subscriptions {}\n{}\n**Colors**: sales #{:06X} · refunds #{:06X} · subscriptions #{:06X}\n**Webhook URLs**: {} / {} / {}\n**Show customers**: {}\n**Time zone**: {}",
        channel(c.discord_config.sales_channel_id),
        channel(c.discord_config.refunds_channel_id),
        channel(c.discord_config.subscriptions_channel_id),
        stores.join("\n"),
        c.embed_colors.new_sale.0,
        c.embed_colors.refund.0,
        c.embed_colors.subscription.0,
        c.notifications.new_sale.webhook_urls.len(),
        c.notifications.refund.webhook_urls.len(),
        c.notifications.subscription.webhook_urls.len(),
        on(c.privacy.show_customer),
        c.discord_config.timezone.as_deref().unwrap_or("UTC"),
    )
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
    crate::reload::set_key(state, &path, &key, &value).map_err(|e| {
        e.for_user()
            .map_or_else(|| CommandError::Internal(e.to_string()), CommandError::User)
    })?;
    tracing::info!(%key, "config changed from Discord by user {}", ctx.author().id);
    ctx.send(
        CreateReply::default()
            .content(format!("`{key}` is now `{value}`."))
            .ephemeral(true),
    )
    .await?;
    Ok(())
}
