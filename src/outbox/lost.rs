//! Finding a webhook-URL post whose answer was lost: each such post carries a reference in its
//! footer, and the next attempt looks for it in the webhook's channel before posting again.

use sha2::Digest;

use super::worker::Inner;
use crate::db::Claimed;
use crate::discord::rest::LookupError;
use crate::domain::DiscordWebhook;
use crate::notice::message::{Footer, Message};

impl Inner {
    /// The message, if the webhook's channel can be read and it is there.
    pub(super) async fn look_for(
        &self,
        hook: &DiscordWebhook,
        marker: &str,
        started: i64,
    ) -> Result<Option<String>, LookupError> {
        if !self.rest.has_token() {
            return Err(LookupError::CannotRead("no bot token".into()));
        }
        let known = self
            .channels
            .lock()
            .ok()
            .and_then(|c| c.get(&hook.id).copied());
        let channel = match known {
            Some(c) => c,
            None => {
                let c = self.rest.webhook_channel(hook).await?;
                if let Ok(mut map) = self.channels.lock() {
                    map.insert(hook.id, c);
                }
                c
            }
        };
        // A minute of margin for clocks that disagree with Discord's.
        self.rest
            .find_webhook_message(channel, hook.id, marker, started - 60_000)
            .await
    }
}

/// The notice's own reference, shown in the footer of webhook-URL posts so the bot can recognise
/// its message when Discord's answer was lost. Unique across databases, stable across attempts.
pub fn notice_ref(row: &Claimed) -> String {
    let digest = sha2::Sha256::digest(format!("{}:{}:{}", row.id, row.event_id, row.created_at));
    hex::encode(&digest[..5])
}

/// Adds the reference to the first embed's footer (or the text, for a message without embeds).
pub(super) fn mark(message: &mut Message, marker: &str) {
    let tag = format!("ref {marker}");
    match message.embeds.first_mut() {
        Some(embed) => {
            let footer = embed.footer.get_or_insert(Footer {
                text: String::new(),
            });
            footer.text = if footer.text.is_empty() {
                tag
            } else {
                format!("{} · {tag}", footer.text)
            };
        }
        None => {
            let content = message.content.take().unwrap_or_default();
            message.content = Some(format!("{content}\n-# {tag}").trim_start().to_owned());
        }
    }
    message.fit();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::message::{AllowedMentions, Embed};

    fn message(footer: Option<&str>) -> Message {
        Message {
            content: None,
            embeds: vec![Embed {
                title: "New Sale Completed".into(),
                footer: footer.map(|t| Footer { text: t.into() }),
                ..Embed::default()
            }],
            allowed_mentions: AllowedMentions::default(),
            nonce: None,
            enforce_nonce: None,
        }
    }

    #[test]
    fn the_reference_goes_after_the_footer_text() {
        let mut m = message(Some("Payhip"));
        mark(&mut m, "0a1b2c3d4e");
        assert_eq!(
            m.embeds[0].footer.as_ref().unwrap().text,
            "Payhip · ref 0a1b2c3d4e"
        );
        let mut m = message(None);
        mark(&mut m, "0a1b2c3d4e");
        assert_eq!(m.embeds[0].footer.as_ref().unwrap().text, "ref 0a1b2c3d4e");
    }
}
