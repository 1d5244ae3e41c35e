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

/// Marks a stored destination as a public feed: the notice is rendered without its amount or
/// its buyer ([`crate::notice::public`]). Kept in the stored text, so the worker renders the
/// variant the routing chose when the event came in.
pub const PUBLIC_PREFIX: &str = "public:";

/// The stored form of `destination`, marked as a public feed when `public`.
pub fn stored(destination: &Destination, public: bool) -> String {
    let text = destination.to_stored();
    if public {
        format!("{PUBLIC_PREFIX}{text}")
    } else {
        text
    }
}

/// Whether a stored destination is a public feed, and the destination itself.
pub fn split_public(stored: &str) -> (bool, &str) {
    match stored.strip_prefix(PUBLIC_PREFIX) {
        Some(rest) => (true, rest),
        None => (false, stored),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_feed_keeps_its_mark_through_the_stored_form() {
        let d = Destination::Channel(9);
        assert_eq!(split_public(&stored(&d, true)), (true, "channel:9"));
        assert_eq!(split_public(&stored(&d, false)), (false, "channel:9"));
        assert_eq!(
            Destination::parse(split_public("public:channel:9").1),
            Some(d)
        );
    }
}
