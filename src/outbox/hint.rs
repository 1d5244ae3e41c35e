//! What the seller should do when Discord refuses a notice, in words that name the fix.

use crate::discord::rest::PostError;
use crate::notice::destination::Destination;

/// What the seller should do about a refusal, in words.
pub(super) fn fix_hint(destination: &Destination, error: &PostError) -> String {
    let status = match error {
        PostError::Refused { status, .. } => *status,
        PostError::Unauthorized => 401,
        _ => return String::new(),
    };
    match (destination, status) {
        (Destination::Channel(id), 403) => format!(
            "The bot lacks permission in channel {id}: give it View Channel, Send Messages and Embed Links there"
        ),
        (Destination::Channel(id), 404) => format!(
            "Channel {id} does not exist or the bot is not in its server: check the channel ids in discordConfig"
        ),
        (Destination::Webhook(w), 401) => format!(
            "Discord {} refuses its token (the webhook's token was reset or revoked): copy the webhook URL again from the channel's Integrations > Webhooks into notifications.*.webhookUrls",
            w.redacted()
        ),
        (Destination::Webhook(w), 404) => format!(
            "Discord {} no longer exists (deleted): create a new webhook in the channel's Integrations > Webhooks and put its URL in notifications.*.webhookUrls",
            w.redacted()
        ),
        (Destination::Webhook(w), 403) => format!(
            "Discord {} may not post in its channel (403): check the channel's permissions or create a new webhook for notifications.*.webhookUrls",
            w.redacted()
        ),
        _ => "Discord found the message invalid; please report this as a bug".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DiscordWebhook;

    #[test]
    fn webhook_refusals_name_their_fix() {
        let hook = DiscordWebhook::parse("https://discord.com/api/webhooks/77/secret-tok").unwrap();
        let d = Destination::Webhook(hook);
        let revoked = fix_hint(&d, &PostError::Unauthorized);
        assert!(revoked.contains("token was reset or revoked"), "{revoked}");
        let deleted = fix_hint(
            &d,
            &PostError::Refused {
                status: 404,
                code: 10015,
                message: "Unknown Webhook".into(),
            },
        );
        assert!(deleted.contains("no longer exists"), "{deleted}");
        assert!(!format!("{revoked}{deleted}").contains("secret-tok"));
    }
}
