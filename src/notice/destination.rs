//! Where one notice goes: a channel the bot posts in, or a seller's webhook URL. The stored form
//! holds a webhook's token, so everything a log or `Debug` can show names the webhook by id only.

use std::fmt;

use crate::domain::DiscordWebhook;

/// Where one notice goes. Stored as text in `outbox.destination`.
#[derive(Clone, PartialEq, Eq)]
pub enum Destination {
    Channel(u64),
    Webhook(DiscordWebhook),
}

impl Destination {
    pub fn parse(text: &str) -> Option<Self> {
        if let Some(id) = text.strip_prefix("channel:") {
            return id.parse().ok().map(Destination::Channel);
        }
        text.strip_prefix("webhook:")
            .and_then(DiscordWebhook::parse)
            .map(Destination::Webhook)
    }

    /// The stored form. Contains a webhook's token: never log it; use `Display`.
    pub fn to_stored(&self) -> String {
        match self {
            Destination::Channel(id) => format!("channel:{id}"),
            Destination::Webhook(w) => format!(
                "webhook:https://discord.com/api/webhooks/{}/{}",
                w.id, w.token
            ),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Channel(id) => write!(f, "channel {id}"),
            Destination::Webhook(w) => f.write_str(&w.redacted()),
        }
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
