//! The gateway connection: serenity's client with the poise framework, on the same runtime and
//! the same state as intake and the outbox.

use poise::serenity_prelude as serenity;
use tokio_util::sync::CancellationToken;

use super::commands::{self, CommandError};
use crate::config::Secret;
use crate::state::AppState;

/// Connects, registers the commands and serves interactions until `stop`.
pub async fn run(
    state: AppState,
    token: Secret,
    stop: CancellationToken,
) -> Result<(), serenity::Error> {
    let base = state.settings().discord_api_base.clone();
    let config = state.config();
    let guild = config.discord_config.guild_id;
    let activity = config.discord_config.bot_activity.clone();
    let roles = config.roles.enabled();
    let rejoin = roles && config.roles.regrant_on_rejoin;
    let mut builder = serenity::HttpBuilder::new(token.expose());
    if let Some(base) = &base {
        // serenity only rewrites URLs with its own rate limiter off; the outbox and Discord's
        // answers pace commands instead.
        builder = builder.proxy(base.clone()).ratelimiter_disabled(true);
    }
    let http = builder.build();
    let data = state.clone();
    let framework = poise::Framework::<AppState, CommandError>::builder()
        .options(poise::FrameworkOptions {
            commands: commands::for_config(roles),
            command_check: Some(|ctx| Box::pin(commands::in_own_server(ctx))),
            // Nothing a command answers pings anyone, whatever names it shows.
            allowed_mentions: Some(serenity::CreateAllowedMentions::new()),
            on_error: |e| Box::pin(commands::on_error(e)),
            event_handler: |framework, event| Box::pin(on_event(framework.user_data, event)),
            ..Default::default()
        })
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                // poise runs this once, on the first Ready: the link is logged once per start,
                // before registering in a server the bot may not be in yet.
                if ready.guilds.is_empty() {
                    tracing::warn!(
                        "the bot is in no Discord server yet: open {} to add it to yours",
                        super::invite::invite_url_for(ready.application.id.get(), roles)
                    );
                }
                let commands = &framework.options().commands;
                match guild {
                    Some(g) => {
                        poise::builtins::register_in_guild(ctx, commands, serenity::GuildId::new(g)).await?;
                        tracing::info!(guild = g, "slash commands registered in the guild");
                    }
                    None => {
                        poise::builtins::register_globally(ctx, commands).await?;
                        tracing::info!("slash commands registered globally (may take up to an hour to appear; set discordConfig.guildId for instant registration)");
                    }
                }
                tracing::info!(user = %ready.user.name, "connected to Discord");
                Ok(data)
            })
        })
        .build();
    // Server Members is privileged: asked for only when the seller switched it on for re-grants.
    let mut intents = serenity::GatewayIntents::GUILDS;
    if rejoin {
        intents |= serenity::GatewayIntents::GUILD_MEMBERS;
    }
    let mut client_builder =
        serenity::ClientBuilder::new_with_http(http, intents).framework(framework);
    if let Some(activity) = activity.filter(|a| !a.trim().is_empty()) {
        client_builder = client_builder.activity(serenity::ActivityData::watching(activity));
    }
    // Shutdown must not wait for a gateway that cannot be reached.
    let mut client = tokio::select! {
        client = client_builder => client?,
        () = stop.cancelled() => return Ok(()),
    };
    let shards = client.shard_manager.clone();
    tokio::select! {
        result = client.start() => result,
        () = stop.cancelled() => {
            shards.shutdown_all().await;
            Ok(())
        }
    }
}

/// A member who rejoins gets the roles of their live claims back (with the Server Members intent).
async fn on_event(state: &AppState, event: &serenity::FullEvent) -> Result<(), CommandError> {
    let serenity::FullEvent::GuildMemberAddition { new_member } = event else {
        return Ok(());
    };
    let config = state.config();
    if !config.roles.regrant_on_rejoin
        || config.discord_config.guild_id != Some(new_member.guild_id.get())
    {
        return Ok(());
    }
    let (guild, user) = (new_member.guild_id.get(), new_member.user.id.get());
    match state
        .store()
        .regrant_member(guild, user, state.clock().now_ms())
        .await
    {
        Ok(0) => {}
        Ok(n) => {
            tracing::info!(user, "a buyer rejoined: {n} role(s) queued again");
            state.outbox_wakeup().notify_one();
        }
        Err(e) => tracing::error!(user, "cannot give a rejoining buyer their roles back: {e}"),
    }
    Ok(())
}
