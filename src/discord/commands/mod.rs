//! Slash commands. Bodies stay thin: parse options, call the library, send the view.

use poise::serenity_prelude as serenity;
use poise::CreateReply;

use std::sync::Arc;

use crate::db::DbError;
use crate::notice::message::Embed;
use crate::providers::Provider;
use crate::state::AppState;
use crate::stats::PeriodError;

mod botinfo;
mod claim;
mod config;
mod export;
mod help;
mod ping;
mod replay;
mod sales;
mod stats;
mod test;

pub use botinfo::botinfo;
pub use claim::{claim, claims, claims_lookup, claims_unbind};
pub use config::{config, config_set, config_show, configoptions};
pub use export::export;
pub use help::help;
pub use ping::ping;
pub use replay::replay_rejected;
pub use sales::sales;
pub use stats::stats;
pub use test::test;

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

/// Every command for sellers, registered with Manage Server as the default permission and usable
/// only inside a server: sales data is private, and in direct messages Discord applies no
/// permission at all, so anyone sharing a server with the bot could ask it for figures.
pub fn all() -> Vec<poise::Command<AppState, CommandError>> {
    vec![
        sales(),
        stats(),
        export(),
        test(),
        config(),
        configoptions(),
        help(),
        botinfo(),
        ping(),
        replay_rejected(),
    ]
}

/// The commands a server sees: `/claim` and `/claims` only once `roles` is set up, so buyers are
/// not offered a command that can give them nothing. Registered at start-up.
pub fn for_config(roles: bool) -> Vec<poise::Command<AppState, CommandError>> {
    let mut out = all();
    if roles {
        out.extend([claim(), claims()]);
    }
    out
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
    #[name = "stripe"]
    Stripe,
    #[name = "lemonsqueezy"]
    LemonSqueezy,
    #[name = "gumroad"]
    Gumroad,
    #[name = "kofi"]
    Kofi,
}

impl ProviderChoice {
    fn name(self) -> &'static str {
        match self {
            ProviderChoice::Payhip => "payhip",
            ProviderChoice::Xsolla => "xsolla",
            ProviderChoice::Stripe => "stripe",
            ProviderChoice::LemonSqueezy => "lemonsqueezy",
            ProviderChoice::Gumroad => "gumroad",
            ProviderChoice::Kofi => "kofi",
        }
    }
}

/// The store a command's figures are limited to: `store` by its name, or the one store that takes
/// `provider`'s webhooks. Several stores of that provider: the caller is asked to pick one, rather
/// than shown one store's figures as the provider's. `Err`: what to tell the caller.
fn store_filter(
    state: &AppState,
    provider: Option<ProviderChoice>,
    store: Option<String>,
) -> Result<Option<String>, String> {
    let names = || {
        state
            .providers()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(name) = store.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        let Some(found) = state.providers().iter().find(|p| p.name() == name) else {
            return Err(format!(
                "No store is called \"{}\". The stores are: {}.",
                crate::notice::escape::text(&name),
                names()
            ));
        };
        if let Some(p) = provider.filter(|p| p.name() != found.kind()) {
            return Err(format!(
                "Store \"{name}\" takes {} webhooks, not {}.",
                found.kind(),
                p.name()
            ));
        }
        return Ok(Some(name));
    }
    let Some(provider) = provider else {
        return Ok(None);
    };
    let of_kind: Vec<&Arc<dyn Provider>> = state
        .providers()
        .iter()
        .filter(|p| p.kind() == provider.name())
        .collect();
    // A store without its secret takes no webhooks: it does not make the choice ambiguous.
    let set_up: Vec<&str> = of_kind
        .iter()
        .filter(|p| p.missing_secret_hint().is_none())
        .map(|p| p.name())
        .collect();
    let of_kind = if set_up.is_empty() {
        of_kind.iter().map(|p| p.name()).collect()
    } else {
        set_up
    };
    match of_kind.as_slice() {
        [one] => Ok(Some((*one).to_owned())),
        // No store takes them now: what was received under the provider's name before.
        [] => Ok(Some(provider.name().to_owned())),
        several => Err(format!(
            "Several stores take {} webhooks ({}): pick one with the store option.",
            provider.name(),
            several.join(", ")
        )),
    }
}

/// The store names starting with what the caller typed, for the `store` option.
async fn complete_store(ctx: Context<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices = ctx
        .data()
        .providers()
        .iter()
        .map(|p| p.name())
        .filter(|name| name.starts_with(partial.trim()))
        .take(25)
        .map(serenity::AutocompleteChoice::from)
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
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
