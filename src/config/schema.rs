//! The shape of `config.json` and its defaults: the earlier JavaScript bot's file loads
//! unchanged, and everything this bot adds is an extra, optional key.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::values::opt_snowflake;
use super::values::Color;
use crate::domain::NoticeKind;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Config {
    pub discord_config: DiscordConfig,
    pub payhip_config: ProviderConfig,
    pub xsolla_config: ProviderConfig,
    pub webhook_config: WebhookConfig,
    pub database_config: DatabaseConfig,
    pub embed_colors: EmbedColors,
    pub notifications: Notifications,
    pub privacy: Privacy,
    pub delivery: Delivery,
    /// Discord roles given to buyers (see docs/roles.md).
    pub roles: super::roles::RolesConfig,
    /// Several stores in one bot (see [`super::listed`]); empty for the single-store sections.
    #[serde(rename = "stores")]
    pub listed: Vec<super::listed::ListedStore>,
    /// Daily or weekly summaries posted to a channel (see docs/notifications.md).
    pub digests: Vec<super::digests::Digest>,
    /// The sections of the stores in [`super::table`] (`stripeConfig`, …).
    #[serde(flatten)]
    pub stores: super::StoreSections,
    /// Filled in when the file is read; see [`Config::unknown_keys`].
    #[serde(skip)]
    pub(super) unknown_keys: Vec<super::load::Problem>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DiscordConfig {
    pub bot_activity: Option<String>,
    #[serde(with = "opt_snowflake")]
    pub guild_id: Option<u64>,
    #[serde(with = "opt_snowflake")]
    pub sales_channel_id: Option<u64>,
    #[serde(with = "opt_snowflake")]
    pub refunds_channel_id: Option<u64>,
    #[serde(with = "opt_snowflake")]
    pub subscriptions_channel_id: Option<u64>,
    /// Replaces `https://discord.com` in every Discord call: an HTTP proxy, or a test double.
    pub api_base_url: Option<String>,
    /// IANA time zone (e.g. "Europe/Paris") that periods like "today" follow. Default UTC.
    pub timezone: Option<String>,
    /// Whether this instance connects to the gateway and answers slash commands. With several
    /// instances on one database, leave it on for one of them only.
    pub commands: Option<bool>,
    /// Where staff alerts go (signature failures, silence, dead-lettered notices, permission
    /// errors, a database refusing writes). Not set: they are logged only.
    #[serde(with = "opt_snowflake")]
    pub alerts_channel_id: Option<u64>,
    /// Alert when no verified webhook has arrived for this long. Not set: no silence alert.
    pub alert_after_silent_minutes: Option<u64>,
}

impl DiscordConfig {
    pub fn commands_enabled(&self) -> bool {
        self.commands.unwrap_or(true)
    }

    /// The configured time zone; validation guarantees it parses.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(chrono_tz::Tz::UTC)
    }

    /// The key in `discordConfig` of the channel `kind` is posted in.
    pub fn channel_key(kind: NoticeKind) -> &'static str {
        match kind {
            NoticeKind::Sale => "salesChannelId",
            NoticeKind::Refund => "refundsChannelId",
            NoticeKind::Subscription => "subscriptionsChannelId",
        }
    }

    pub fn channel_for(&self, kind: NoticeKind) -> Option<u64> {
        match kind {
            NoticeKind::Sale => self.sales_channel_id,
            NoticeKind::Refund => self.refunds_channel_id,
            NoticeKind::Subscription => self.subscriptions_channel_id,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderConfig {
    pub event_types: EventTypes,
    /// Only read for providers other than Payhip, whose path stays in `webhookConfig` as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_path: Option<String>,
    /// Whether unsigned test webhooks (Payhip's "send test webhook" button) post a notice marked
    /// TEST. Off by default: anyone who knows the URL can send one. Never counted in stats.
    pub announce_tests: bool,
    /// Whether subscription changes other than start and cancel (Xsolla's `update_subscription`)
    /// are announced. They are always recorded.
    pub announce_subscription_updates: bool,
    /// The seller's own server (Xsolla's one webhook URL per project is then the bot's), to
    /// which every verified request is passed on; see [`crate::relay`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_url: Option<String>,
    /// How long to wait for that server, in milliseconds (default 10000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_timeout_ms: Option<u64>,
    /// Where this store's notices go instead of the channels and URLs every store shares.
    #[serde(skip_serializing_if = "super::routing::Routes::is_empty")]
    pub notify: super::routing::Routes,
    /// Where one product's notices go instead; the first listed product of an event that names
    /// a kind decides it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<super::routing::ProductRoute>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EventTypes {
    pub new_sale: bool,
    pub refund: bool,
    pub subscriptions: bool,
}

impl Default for EventTypes {
    fn default() -> Self {
        Self {
            new_sale: true,
            refund: true,
            subscriptions: true,
        }
    }
}

impl EventTypes {
    /// The key of `kind` in `eventTypes` (plural for subscriptions, as in the earlier bot).
    pub fn key(kind: NoticeKind) -> &'static str {
        match kind {
            NoticeKind::Sale => "newSale",
            NoticeKind::Refund => "refund",
            NoticeKind::Subscription => "subscriptions",
        }
    }

    pub fn enabled(&self, kind: NoticeKind) -> bool {
        match kind {
            NoticeKind::Sale => self.new_sale,
            NoticeKind::Refund => self.refund,
            NoticeKind::Subscription => self.subscriptions,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookConfig {
    pub webhook_port: u16,
    pub webhook_path: String,
    /// The public address stores reach the bot at (the earlier bot's key). The bot cannot know
    /// it by itself; start-up prints each store's webhook URL from it.
    #[serde(rename = "webhookURL")]
    pub webhook_url: String,
    pub bind_address: IpAddr,
    /// Where `/metrics` is served, apart from the public port. Unset: nowhere, unless
    /// `METRICS_TOKEN` is set (then on the public port, behind that token).
    pub metrics_addr: Option<SocketAddr>,
    /// Open connections kept at most; past it the oldest idle one is closed for a new one.
    pub max_connections: usize,
    /// How long a client has to send a request's headers, from its first byte (or from
    /// connecting, for the first request on a connection).
    pub header_timeout_seconds: u64,
    /// How long a client has to send a request's body once its headers are in.
    pub body_timeout_seconds: u64,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout_seconds: u64,
    /// Webhooks refused for their signature that are a store's event all the same are kept
    /// apart, at most this many (the newest) and this many bytes in all, for
    /// `integrations-bot replay-rejected`. 0 keeps none.
    pub rejected_bodies_kept: usize,
    pub rejected_bytes_kept: usize,
}

impl WebhookConfig {
    /// `webhookURL` without the Payhip path the earlier bot's value ended with, so that each
    /// store's path can be put after it. None when not set, or not an http(s) address.
    pub fn public_base(&self) -> Option<&str> {
        let url = self.webhook_url.trim().trim_end_matches('/');
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return None;
        }
        let base = url.strip_suffix(self.webhook_path.as_str()).unwrap_or(url);
        Some(base.trim_end_matches('/'))
    }
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            webhook_port: 3000,
            webhook_path: "/webhook/payhip".into(),
            webhook_url: String::new(),
            bind_address: IpAddr::from([0, 0, 0, 0]),
            metrics_addr: None,
            max_connections: 1_000,
            header_timeout_seconds: 10,
            body_timeout_seconds: 10,
            idle_timeout_seconds: 30,
            rejected_bodies_kept: 200,
            rejected_bytes_kept: 2 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DatabaseConfig {
    pub url: Option<String>,
    /// The earlier bot truncated history to this many rows; accepted so old files load, ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sales: Option<Value>,
}

/// Where Xsolla notifications are received unless `xsollaConfig.webhookPath` says otherwise.
pub const XSOLLA_DEFAULT_PATH: &str = "/webhook/xsolla";

/// Paths the bot serves itself, which a webhook path cannot take.
pub(super) const RESERVED_PATHS: [&str; 2] = ["/healthz", "/metrics"];

/// The default database: a file under `data/`, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/sales.db";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EmbedColors {
    pub new_sale: Color,
    pub refund: Color,
    pub subscription: Color,
}

impl Default for EmbedColors {
    fn default() -> Self {
        Self {
            new_sale: Color(0x00FF00),
            refund: Color(0xFF0000),
            subscription: Color(0x0000FF),
        }
    }
}

impl EmbedColors {
    pub fn for_kind(&self, kind: NoticeKind) -> Color {
        match kind {
            NoticeKind::Sale => self.new_sale,
            NoticeKind::Refund => self.refund,
            NoticeKind::Subscription => self.subscription,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Notifications {
    pub new_sale: Notification,
    pub refund: Notification,
    pub subscription: Notification,
}

impl Notifications {
    pub fn for_kind(&self, kind: NoticeKind) -> &Notification {
        match kind {
            NoticeKind::Sale => &self.new_sale,
            NoticeKind::Refund => &self.refund,
            NoticeKind::Subscription => &self.subscription,
        }
    }
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Notification {
    /// A ClientXCMS-style template rendered into the message text above the embed.
    pub message: Option<String>,
    /// Discord webhook URLs that receive the notice too. They are secrets: `Debug` hides them.
    pub webhook_urls: Vec<String>,
}

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("message", &self.message)
            .field(
                "webhook_urls",
                &format!("[{} hidden]", self.webhook_urls.len()),
            )
            .finish()
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Privacy {
    pub show_customer: bool,
}

/// How long the outbox keeps trying before a notice is dead-lettered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Delivery {
    pub max_attempts: u32,
    pub max_age_minutes: u64,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// How long a claimed notice belongs to one instance before another may take it over, unless
    /// renewed (at most 15 s is used). Only matters when several instances share PostgreSQL.
    pub lease_seconds: u64,
    /// Past this many notices waiting for one place, the bot posts a summary per minute instead
    /// of each notice (0: never). Below it, up to ten notices still share a message.
    pub summary_backlog: u64,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            // Enough that with the default backoff the age limit, not the count, ends retries.
            max_attempts: 300,
            max_age_minutes: 24 * 60,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 10 * 60 * 1_000,
            lease_seconds: 15,
            summary_backlog: 50,
        }
    }
}
