//! `/ping`: is the bot there, and how quickly does Discord answer it (the JavaScript bot had it).

use std::time::Instant;

use poise::CreateReply;

use super::{CommandError, Context};

/// The gateway heartbeat latency and the round trip of this reply through Discord's API.
#[poise::command(slash_command, guild_only, default_member_permissions = "MANAGE_GUILD")]
pub async fn ping(ctx: Context<'_>) -> Result<(), CommandError> {
    let started = Instant::now();
    let reply = ctx
        .send(CreateReply::default().content("Pong!").ephemeral(true))
        .await?;
    let round_trip = started.elapsed();
    // Zero until the first heartbeat of this connection has been acknowledged.
    let heartbeat = ctx.ping().await;
    let heartbeat = if heartbeat.is_zero() {
        "not measured yet (just connected)".to_owned()
    } else {
        format!("{} ms", heartbeat.as_millis())
    };
    let text = format!(
        "Pong! Gateway heartbeat: {heartbeat} · API round trip: {} ms",
        round_trip.as_millis()
    );
    reply
        .edit(ctx, CreateReply::default().content(text))
        .await?;
    Ok(())
}
