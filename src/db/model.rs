//! The rows the storage layer takes and gives, named so callers never count tuple fields.

use chrono::{DateTime, Utc};

use crate::domain::Event;

/// An event ready to be written with its notices, as the intake hands it to the writer.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event: Event,
    /// The body exactly as received.
    pub raw: String,
    pub received_at: DateTime<Utc>,
    /// Where its notice goes: one outbox row each (see [`crate::outbox::Destination`]).
    pub destinations: Vec<String>,
    /// Why the event is kept for the record only (see [`crate::bounds`]): never counted.
    pub not_counted: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New { event_id: i64, notices: usize },
    Duplicate,
}

/// A stored destination for messages: a webhook URL's token is a secret, so it is cut off.
pub(crate) fn redacted_destination(destination: &str) -> String {
    if let Some(rest) = destination.strip_prefix(crate::notice::destination::PUBLIC_PREFIX) {
        return format!(
            "{}{}",
            crate::notice::destination::PUBLIC_PREFIX,
            redacted_destination(rest)
        );
    }
    match destination
        .strip_prefix("webhook:")
        .and_then(crate::domain::DiscordWebhook::parse)
    {
        Some(hook) => format!("webhook:{}", hook.redacted()),
        None if destination.starts_with("webhook:") => "webhook:***".to_owned(),
        None => destination.to_owned(),
    }
}

impl std::fmt::Debug for OutboxRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRow")
            .field("id", &self.id)
            .field("event_id", &self.event_id)
            .field("destination", &redacted_destination(&self.destination))
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("last_error", &self.last_error)
            .field("discord_message_id", &self.discord_message_id)
            .finish()
    }
}

#[cfg(test)]
mod redaction_tests {
    #[test]
    fn outbox_rows_do_not_show_webhook_tokens() {
        let row = super::OutboxRow {
            id: 1,
            event_id: 1,
            destination: "webhook:https://discord.com/api/webhooks/55/secret-token".into(),
            status: "dead".into(),
            attempts: 1,
            last_error: None,
            discord_message_id: None,
        };
        let text = format!("{row:?}");
        assert!(
            !text.contains("secret-token") && text.contains("webhook 55"),
            "{text}"
        );
        let public = super::OutboxRow {
            destination: format!("public:{}", row.destination),
            ..row
        };
        let text = format!("{public:?}");
        assert!(
            !text.contains("secret-token")
                && text.contains("public:webhook:")
                && text.contains("webhook 55"),
            "{text}"
        );
    }
}

/// Counts of the outbox by state, for `/botinfo`, logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub delivered: i64,
    pub preview: i64,
    pub dead: i64,
}

#[derive(Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub event_id: i64,
    pub destination: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub discord_message_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub events: i64,
    pub sales: i64,
    pub refunds: i64,
    pub subscriptions: i64,
    pub test_events: i64,
}

/// Per-currency sums: (currency, sales, gross, fees, refunds, refunded).
pub type MoneyRow = (String, i64, i64, i64, i64, i64);

/// A page request of recent events, newest first.
#[derive(Debug, Clone, Copy)]
pub struct RecentQuery<'a> {
    pub from: i64,
    pub to: i64,
    pub provider: Option<&'a str>,
    pub product: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub event: Event,
}

/// Chargebacks and fraud per currency: (currency, risk, refunds, amount).
pub type RiskRow = (String, String, i64, i64);

/// The database's part of `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricCounts {
    pub events: i64,
    pub sales: i64,
    pub refunds: i64,
    pub outbox: OutboxCounts,
}

/// A webhook refused for its signature, kept apart (see `crate::quarantine`). `headers` is a
/// JSON array of `[name, value]` pairs. Its `Debug` shows sizes only: the body holds buyer data.
#[derive(Clone)]
pub struct RejectedBody {
    pub id: i64,
    pub provider: String,
    pub headers: String,
    pub body: Vec<u8>,
    /// Unix milliseconds.
    pub received_at: i64,
}

impl std::fmt::Debug for RejectedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectedBody")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("bytes", &self.body.len())
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}
