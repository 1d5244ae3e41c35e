//! What an alert says and when it may be sent: pure, so both are tested with a driven clock.

use std::time::{Duration, Instant};

/// Something staff should hear about at once, in `discordConfig.alertsChannelId`. Carries no
/// text from a request: only store names, channel ids and counts reach the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    /// A webhook failed the signature check (the store's display name); `kept`: it was kept
    /// apart for `/replay-rejected`.
    SignatureFailed { provider: &'static str, kept: bool },
    /// No verified webhook for this many minutes (`discordConfig.alertAfterSilentMinutes`).
    Silent { minutes: u64 },
    /// A notice was given up after its retries (dead-lettered).
    DeadLettered,
    /// Discord answered 403 Missing Permissions: posting in `channel`, or (None) something else,
    /// such as changing a member's role.
    PermissionDenied { channel: Option<u64> },
    /// The database refused to store a webhook (not because of the webhook itself).
    DatabaseRefused,
}

/// The rate limit's bucket: one per kind, per store and per channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Signature(&'static str),
    Silent,
    DeadLettered,
    Permission(Option<u64>),
    Database,
}

impl Alert {
    pub fn key(&self) -> Key {
        match self {
            Alert::SignatureFailed { provider, .. } => Key::Signature(provider),
            Alert::Silent { .. } => Key::Silent,
            Alert::DeadLettered => Key::DeadLettered,
            Alert::PermissionDenied { channel } => Key::Permission(*channel),
            Alert::DatabaseRefused => Key::Database,
        }
    }
}

/// At most one alert of a kind per this interval; what happens meanwhile is counted and said in
/// the next one.
pub const INTERVAL: Duration = Duration::from_secs(60 * 60);

/// One bucket's state: the first occurrence is sent at once, later ones at most once an hour
/// with their count.
#[derive(Debug, Default, Clone)]
pub struct Limiter {
    last_sent: Option<Instant>,
    /// Occurrences since the last alert sent, not yet said.
    held: u64,
    /// The latest occurrence held, to be said with their count.
    latest: Option<Alert>,
}

impl Limiter {
    /// One occurrence: Some(n) when an alert covering n occurrences is to be sent now.
    pub fn occur(&mut self, alert: Alert, now: Instant) -> Option<(Alert, u64)> {
        self.held += 1;
        self.latest = Some(alert);
        self.flush(now)
    }

    /// The held occurrences, when the interval since the last alert has passed.
    pub fn flush(&mut self, now: Instant) -> Option<(Alert, u64)> {
        let due = self
            .last_sent
            .is_none_or(|at| now.saturating_duration_since(at) >= INTERVAL);
        if self.held == 0 || !due {
            return None;
        }
        let alert = self.latest.take()?;
        let n = std::mem::take(&mut self.held);
        self.last_sent = Some(now);
        Some((alert, n))
    }
}

/// The alert's text, covering `n` occurrences. Names keys and commands, never a secret, a
/// buyer, or text a sender chose.
pub fn text(alert: &Alert, n: u64) -> String {
    let times = if n > 1 {
        format!(" ({n} times since the last alert)")
    } else {
        String::new()
    };
    match alert {
        Alert::SignatureFailed { provider, kept } => {
            let what = if n > 1 {
                format!("{n} webhooks failed the signature check and were refused")
            } else {
                "a webhook failed the signature check and was refused".to_owned()
            };
            let then = if *kept {
                ", then run `/replay-rejected` to take in the sales refused meanwhile"
            } else {
                ""
            };
            format!(
                "⚠️ **{provider}**: {what} (not counted, not posted). If you changed the key or signing secret in {provider}, give the bot the new one and restart it{then}. If you did not, someone may be sending forged webhooks, and nothing needs doing."
            )
        }
        Alert::Silent { minutes } => format!(
            "⚠️ No webhook has been received for {} (discordConfig.alertAfterSilentMinutes). If sales were expected, check the webhook URL in your store's settings and that the bot can be reached from the internet. Said once until webhooks arrive again.",
            duration(*minutes)
        ),
        Alert::DeadLettered => format!(
            "⚠️ A notice could not be posted and was given up (dead-lettered){times}. The sale is stored and counted; the bot's log line `notice dead-lettered` says why, and /botinfo shows the count."
        ),
        Alert::PermissionDenied { channel: Some(id) } => format!(
            "⚠️ Discord refused the bot permission to post in <#{id}>{times}. Give the bot's role View Channel, Send Messages and Embed Links there."
        ),
        Alert::PermissionDenied { channel: None } => format!(
            "⚠️ Discord refused the bot a permission it needs (Missing Permissions){times}, for example to change a member's role: check the bot's role and its place in Server Settings > Roles."
        ),
        Alert::DatabaseRefused => format!(
            "🛑 The database is refusing to store webhooks{times}: the stores are answered 503 and will retry, but nothing new is stored until it is fixed (a full disk, a read-only or locked file, PostgreSQL down). The bot's log says why."
        ),
    }
}

fn duration(minutes: u64) -> String {
    match minutes {
        m if m % (24 * 60) == 0 => plural(m / (24 * 60), "day"),
        m if m % 60 == 0 => plural(m / 60, "hour"),
        m => plural(m, "minute"),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_sent_then_one_an_hour_with_the_count() {
        let mut l = Limiter::default();
        let t0 = Instant::now();
        let a = || Alert::DeadLettered;
        assert_eq!(l.occur(a(), t0), Some((a(), 1)));
        assert_eq!(l.occur(a(), t0 + Duration::from_secs(1)), None);
        assert_eq!(l.occur(a(), t0 + Duration::from_secs(59 * 60)), None);
        assert_eq!(l.flush(t0 + Duration::from_secs(59 * 60)), None);
        assert_eq!(l.flush(t0 + INTERVAL), Some((a(), 2)));
        assert_eq!(l.flush(t0 + INTERVAL * 3), None, "nothing held");
        assert_eq!(
            l.occur(a(), t0 + INTERVAL * 3),
            Some((a(), 1)),
            "after a quiet hour the next is sent at once"
        );
    }

    #[test]
    fn texts_name_counts_and_fixes_and_nothing_else() {
        let sig = Alert::SignatureFailed {
            provider: "Payhip",
            kept: true,
        };
        assert!(text(&sig, 1).contains("a webhook failed"));
        assert!(text(&sig, 37).contains("37 webhooks failed"));
        assert!(text(&sig, 1).contains("/replay-rejected"));
        let relayed = Alert::SignatureFailed {
            provider: "Xsolla",
            kept: false,
        };
        assert!(!text(&relayed, 1).contains("/replay-rejected"));
        assert!(text(&Alert::Silent { minutes: 120 }, 1).contains("for 2 hours"));
        assert!(text(&Alert::Silent { minutes: 1440 }, 1).contains("for 1 day"));
        assert!(text(&Alert::Silent { minutes: 90 }, 1).contains("for 90 minutes"));
        let perm = Alert::PermissionDenied { channel: Some(42) };
        assert!(text(&perm, 3).contains("<#42> (3 times since the last alert)"));
        assert!(text(&Alert::DatabaseRefused, 1).contains("503"));
        for t in [
            text(&Alert::DeadLettered, 2),
            text(&Alert::PermissionDenied { channel: None }, 1),
        ] {
            assert!(t.chars().count() < crate::notice::message::CONTENT_MAX);
        }
    }
}
