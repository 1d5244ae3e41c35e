//! A seller's Discord webhook URL, read once and never shown with its token.

use std::fmt;

/// A Discord webhook URL split into the parts Discord's API takes. The token is a secret.
#[derive(Clone, PartialEq, Eq)]
pub struct DiscordWebhook {
    pub id: u64,
    pub token: String,
}

impl fmt::Debug for DiscordWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DiscordWebhook({}/***)", self.id)
    }
}

impl DiscordWebhook {
    /// Accepts `https://{discord.com|discordapp.com|ptb.…|canary.…}/api[/vN]/webhooks/{id}/{token}`.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.trim().strip_prefix("https://")?;
        let (host, path) = rest.split_once('/')?;
        let host_ok = matches!(
            host,
            "discord.com"
                | "discordapp.com"
                | "ptb.discord.com"
                | "canary.discord.com"
                | "ptb.discordapp.com"
                | "canary.discordapp.com"
        );
        if !host_ok {
            return None;
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let mut parts = path.trim_end_matches('/').split('/');
        if parts.next()? != "api" {
            return None;
        }
        let mut next = parts.next()?;
        if next.starts_with('v') && next[1..].bytes().all(|b| b.is_ascii_digit()) {
            next = parts.next()?;
        }
        if next != "webhooks" {
            return None;
        }
        let id = parts.next()?.parse::<u64>().ok()?;
        let token = parts.next()?.to_owned();
        if token.is_empty()
            || parts.next().is_some()
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        Some(Self { id, token })
    }

    /// The URL to post to, with `https://discord.com` replaced by `base` when one is configured.
    pub fn execute_url(&self, base: Option<&str>) -> String {
        let origin = base.unwrap_or("https://discord.com");
        format!(
            "{origin}/api/v10/webhooks/{}/{}?wait=true",
            self.id, self.token
        )
    }

    /// Safe for logs: the id only.
    pub fn redacted(&self) -> String {
        format!("webhook {}", self.id)
    }
}
