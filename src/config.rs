//! `config.json`: the earlier JavaScript bot's file loads unchanged, and everything this bot adds is
//! an extra, optional key. Secrets never live in [`Config`] itself; see [`Secrets`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::domain::NoticeKind;

mod stores;
pub use stores::{StoreSecrets, StoreSections};

/// One thing wrong with a config file, located by its JSON path so a seller can find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} problem(s) in the config:\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

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
    /// The sections of the stores in the provider registry's table (`stripeConfig`, …).
    #[serde(flatten)]
    pub stores: StoreSections,
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
    /// The public URL sellers paste into their store; informational, shown in logs.
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
const RESERVED_PATHS: [&str; 2] = ["/healthz", "/metrics"];

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

/// An RGB color written as `#RRGGBB` or `RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u32);

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("#{:06X}", self.0))
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_color(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a hex color like \"#00FF00\", found {text:?}"
            ))
        })
    }
}

fn parse_color(text: &str) -> Option<Color> {
    let hex = text.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(Color)
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
    /// How long a claimed notice belongs to one instance before another may take it over. Only
    /// matters when several instances share a PostgreSQL database.
    pub lease_seconds: u64,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            max_attempts: 25,
            max_age_minutes: 24 * 60,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 10 * 60 * 1_000,
            lease_seconds: 120,
        }
    }
}

/// Channel ids are strings in the earlier bot's file; numbers and `""` (not set) are accepted too.
mod opt_snowflake {
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(id) => s.serialize_str(&id.to_string()),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let bad = |found: &dyn std::fmt::Display| {
            serde::de::Error::custom(format!(
                "expected a Discord id (digits, as a string), found {found}"
            ))
        };
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => match s.trim().parse::<u64>() {
                Ok(id) if id > 0 => Ok(Some(id)),
                _ => Err(bad(&format!("{s:?}"))),
            },
            Value::Number(n) => match n.as_u64() {
                Some(id) if id > 0 => Ok(Some(id)),
                _ => Err(bad(&n)),
            },
            other => Err(bad(&other)),
        }
    }
}

impl Config {
    /// Reads and validates a config file; every problem found is reported, not just the first.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_json(&text)
    }

    pub fn from_json(text: &str) -> Result<Config, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            ConfigError::Invalid(vec![Problem {
                path: "(file)".into(),
                message: format!("not valid JSON: {e}"),
            }])
        })?;
        let Value::Object(root) = value else {
            return Err(ConfigError::Invalid(vec![Problem {
                path: "(file)".into(),
                message: "expected a JSON object at the top level".into(),
            }]));
        };

        let mut problems = Vec::new();
        let mut config = Config::default();
        // Each section is read on its own so that one bad section does not hide the others.
        macro_rules! section {
            ($($field:ident => $key:literal),* $(,)?) => {$(
                if let Some(v) = root.get($key) {
                    match serde_path_to_error::deserialize(v) {
                        Ok(parsed) => config.$field = parsed,
                        Err(e) => problems.push(Problem {
                            path: join_path($key, &e.path().to_string()),
                            message: e.inner().to_string(),
                        }),
                    }
                }
            )*};
        }
        section!(
            discord_config => "discordConfig",
            payhip_config => "payhipConfig",
            xsolla_config => "xsollaConfig",
            webhook_config => "webhookConfig",
            database_config => "databaseConfig",
            embed_colors => "embedColors",
            notifications => "notifications",
            privacy => "privacy",
            delivery => "delivery",
        );
        config.stores = StoreSections::read(&root, &mut problems);
        problems.extend(config.validate());
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Checks that serde cannot express: relations and formats of values.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut bad = |path: &str, message: String| {
            problems.push(Problem {
                path: path.into(),
                message,
            })
        };
        let default_xsolla_path = XSOLLA_DEFAULT_PATH.to_owned();
        let mut seen: Vec<&str> = Vec::new();
        let store_routes = self.stores.routes();
        let store_routes = store_routes.iter().map(|(p, r)| (p.as_str(), Some(r)));
        for (path, route) in [
            (
                "webhookConfig.webhookPath",
                Some(&self.webhook_config.webhook_path),
            ),
            (
                "xsollaConfig.webhookPath",
                Some(
                    self.xsolla_config
                        .webhook_path
                        .as_ref()
                        .unwrap_or(&default_xsolla_path),
                ),
            ),
        ]
        .into_iter()
        .chain(store_routes)
        {
            let Some(route) = route else { continue };
            let well_formed = route.starts_with('/')
                && route.len() > 1
                && route
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
            if !well_formed {
                bad(
                    path,
                    format!("expected a URL path of letters, digits, / - _ . ~ like \"/webhook/payhip\", found {route:?}"),
                );
            } else if RESERVED_PATHS.contains(&route.as_str()) || seen.contains(&route.as_str()) {
                bad(
                    path,
                    format!("{route:?} is already used by another endpoint"),
                );
            }
            seen.push(route);
        }
        if let Some(base) = &self.discord_config.api_base_url {
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                bad(
                    "discordConfig.apiBaseUrl",
                    format!(
                        "expected an http(s) URL like \"http://127.0.0.1:8080\", found {base:?}"
                    ),
                );
            }
        }
        for (path, section) in [
            ("payhipConfig", &self.payhip_config),
            ("xsollaConfig", &self.xsolla_config),
        ]
        .into_iter()
        .chain(self.stores.all())
        {
            if let Some(url) = &section.forward_url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    bad(
                        &format!("{path}.forwardUrl"),
                        format!("expected an http(s) URL like \"https://game.example.com/xsolla\", found {url:?}"),
                    );
                }
            }
            if let Some(ms) = section.forward_timeout_ms {
                if !(100..=60_000).contains(&ms) {
                    bad(
                        &format!("{path}.forwardTimeoutMs"),
                        format!("expected 100 to 60000 milliseconds, found {ms}"),
                    );
                }
            }
        }
        if let Some(tz) = &self.discord_config.timezone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                bad(
                    "discordConfig.timezone",
                    format!("expected an IANA time zone like \"Europe/Paris\", found {tz:?}"),
                );
            }
        }
        if let Some(url) = &self.database_config.url {
            if !is_supported_database_url(url) {
                bad(
                    "databaseConfig.url",
                    "expected a URL starting with sqlite:// or postgres://".into(),
                );
            }
        }
        for kind in NoticeKind::ALL {
            for (i, url) in self
                .notifications
                .for_kind(kind)
                .webhook_urls
                .iter()
                .enumerate()
            {
                if crate::domain::DiscordWebhook::parse(url).is_none() {
                    bad(
                        &format!("notifications.{}.webhookUrls[{i}]", kind.config_key()),
                        "expected a Discord webhook URL like https://discord.com/api/webhooks/<id>/<token>".into(),
                    );
                }
            }
        }
        let d = &self.delivery;
        if d.max_attempts == 0 {
            bad("delivery.maxAttempts", "expected at least 1".into());
        }
        if d.initial_backoff_ms == 0 || d.initial_backoff_ms > d.max_backoff_ms {
            bad(
                "delivery.initialBackoffMs",
                "expected a value above 0 and not above delivery.maxBackoffMs".into(),
            );
        }
        if d.lease_seconds == 0 {
            bad("delivery.leaseSeconds", "expected at least 1".into());
        }
        let w = &self.webhook_config;
        for (path, value, max) in [
            (
                "webhookConfig.maxConnections",
                w.max_connections as u64,
                1_000_000,
            ),
            (
                "webhookConfig.headerTimeoutSeconds",
                w.header_timeout_seconds,
                3_600,
            ),
            (
                "webhookConfig.bodyTimeoutSeconds",
                w.body_timeout_seconds,
                3_600,
            ),
            (
                "webhookConfig.idleTimeoutSeconds",
                w.idle_timeout_seconds,
                3_600,
            ),
        ] {
            if !(1..=max).contains(&value) {
                bad(path, format!("expected a whole number from 1 to {max}"));
            }
        }
        problems
    }

    /// Things that load but deserve the seller's attention.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for kind in NoticeKind::ALL {
            if let Some(template) = &self.notifications.for_kind(kind).message {
                for name in crate::discord::template::unknown_placeholders(template) {
                    out.push(format!(
                        "notifications.{}.message: unknown placeholder {name} is left as written",
                        kind.config_key()
                    ));
                }
            }
        }
        if self.database_config.max_sales.is_some() {
            out.push(
                "databaseConfig.maxSales is ignored: every event is kept so stats stay correct"
                    .into(),
            );
        }
        out
    }
}

pub fn is_supported_database_url(url: &str) -> bool {
    url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn join_path(section: &str, inner: &str) -> String {
    if inner == "." || inner.is_empty() {
        section.to_owned()
    } else if inner.starts_with('[') {
        format!("{section}{inner}")
    } else {
        format!("{section}.{inner}")
    }
}

/// A secret string: its `Debug` and `Display` never show the value.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What comes from the environment (or `.env`) rather than `config.json`.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub discord_token: Option<Secret>,
    pub payhip_api_key: Option<Secret>,
    pub xsolla_secret_key: Option<Secret>,
    /// The secrets of the stores in the provider registry's table, by variable name.
    pub stores: StoreSecrets,
    /// Bearer token `/metrics` asks for; with it, `/metrics` is also served on the public port.
    pub metrics_token: Option<Secret>,
}

#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub secrets: Secrets,
    pub database_url: Option<String>,
    pub discord_api_base: Option<String>,
}

impl Environment {
    /// Reads the variables through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            secrets: Secrets {
                discord_token: non_empty("DISCORD_TOKEN")
                    .or_else(|| non_empty("BOT_TOKEN"))
                    .map(Secret),
                payhip_api_key: non_empty("PAYHIP_API_KEY").map(Secret),
                xsolla_secret_key: non_empty("XSOLLA_SECRET_KEY").map(Secret),
                metrics_token: non_empty("METRICS_TOKEN").map(Secret),
                stores: StoreSecrets::from_lookup(non_empty),
            },
            database_url: non_empty("DATABASE_URL"),
            discord_api_base: non_empty("DISCORD_API_BASE"),
        }
    }

    /// The process environment, after loading a `.env` file that sits beside the config file.
    /// Variables already set win over the file.
    pub fn load(config_path: &Path) -> Self {
        let dir = config_path.parent().filter(|p| !p.as_os_str().is_empty());
        let dotenv = dir.unwrap_or(Path::new(".")).join(".env");
        if dotenv.is_file() {
            if let Err(e) = dotenvy::from_path(&dotenv) {
                tracing::warn!(path = %dotenv.display(), "ignoring unreadable .env file: {e}");
            }
        }
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

/// Everything the app needs to start, resolved from config + environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub secrets: Secrets,
    pub database_url: String,
    pub discord_api_base: Option<String>,
    pub config_path: Option<PathBuf>,
}

impl Settings {
    pub fn resolve(config: Config, env: Environment, config_path: Option<PathBuf>) -> Self {
        let database_url = env
            .database_url
            .or_else(|| config.database_config.url.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let discord_api_base = env
            .discord_api_base
            .or_else(|| config.discord_config.api_base_url.clone())
            .map(|b| b.trim_end_matches('/').to_owned());
        Self {
            config,
            secrets: env.secrets,
            database_url,
            discord_api_base,
            config_path,
        }
    }
}

/// Key names shown by `check-config` for the routes each notice kind takes.
pub fn routing_summary(config: &Config) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    for kind in NoticeKind::ALL {
        let channel = config.discord_config.channel_for(kind);
        let hooks = config.notifications.for_kind(kind).webhook_urls.len();
        let text = match (channel, hooks) {
            (None, 0) => "not announced (no channel id and no webhook URL)".to_owned(),
            (Some(c), 0) => format!("channel {c}"),
            (None, n) => format!("{n} webhook URL(s)"),
            (Some(c), n) => format!("channel {c} and {n} webhook URL(s)"),
        };
        out.insert(kind.config_key(), text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EARLIER_BOT: &str = r##"{
      "discordConfig": {
        "botActivity": "Payhip Sales",
        "salesChannelId": "123456789012345678",
        "refundsChannelId": "223456789012345678",
        "subscriptionsChannelId": ""
      },
      "payhipConfig": { "eventTypes": { "newSale": true, "refund": false, "subscriptions": true } },
      "databaseConfig": { "maxSales": 200 },
      "webhookConfig": { "webhookPort": 3001, "webhookPath": "/payhip", "webhookURL": "https://example.org/payhip" },
      "embedColors": { "newSale": "#00FF00", "refund": "FF0000", "subscription": "#0000ff" },
      "someKeyOnlyTheOldBotKnew": { "x": 1 }
    }"##;

    #[test]
    fn earlier_bot_config_loads_unchanged() {
        let c = Config::from_json(EARLIER_BOT).expect("loads");
        assert_eq!(c.discord_config.sales_channel_id, Some(123456789012345678));
        assert_eq!(c.discord_config.subscriptions_channel_id, None);
        assert!(!c.payhip_config.event_types.refund);
        assert_eq!(c.webhook_config.webhook_port, 3001);
        assert_eq!(c.webhook_config.webhook_path, "/payhip");
        assert_eq!(c.embed_colors.refund, Color(0xFF0000));
        assert_eq!(c.embed_colors.subscription, Color(0x0000FF));
        assert_eq!(c.warnings().len(), 1, "maxSales is warned about");
    }

    #[test]
    fn empty_object_gives_defaults() {
        let c = Config::from_json("{}").expect("loads");
        assert_eq!(c.webhook_config.webhook_port, 3000);
        assert_eq!(c.webhook_config.webhook_path, "/webhook/payhip");
        assert!(c.payhip_config.event_types.new_sale);
    }

    fn problems(json: &str) -> Vec<Problem> {
        match Config::from_json(json) {
            Err(ConfigError::Invalid(p)) => p,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn each_bad_value_is_reported_with_its_path() {
        let p = problems(
            r#"{
              "discordConfig": { "salesChannelId": "general" },
              "embedColors": { "refund": "red" },
              "webhookConfig": { "webhookPort": "eighty" },
              "notifications": { "refund": { "webhookUrls": ["https://example.org/hook"] } }
            }"#,
        );
        let paths: Vec<&str> = p.iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"discordConfig.salesChannelId"), "{p:?}");
        assert!(paths.contains(&"embedColors.refund"), "{p:?}");
        assert!(paths.contains(&"webhookConfig.webhookPort"), "{p:?}");
        assert!(
            paths.contains(&"notifications.refund.webhookUrls[0]"),
            "{p:?}"
        );
        let color = p.iter().find(|p| p.path == "embedColors.refund").unwrap();
        assert!(color.message.contains("hex color"), "{color}");
    }

    #[test]
    fn broken_json_names_the_line() {
        let p = problems("{\n \"discordConfig\": {,\n}");
        assert_eq!(p[0].path, "(file)");
        assert!(p[0].message.contains("line 2"), "{}", p[0].message);
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let env = Environment::from_lookup(|k| match k {
            "BOT_TOKEN" => Some("token-value-123".into()),
            "PAYHIP_API_KEY" => Some("payhip-key-456".into()),
            _ => None,
        });
        let text = format!("{env:?}");
        assert!(env.secrets.discord_token.is_some(), "BOT_TOKEN is accepted");
        assert!(!text.contains("token-value-123") && !text.contains("payhip-key-456"));
        let mut c = Config::default();
        c.notifications.new_sale.webhook_urls =
            vec!["https://discord.com/api/webhooks/1/secret-tok".into()];
        assert!(!format!("{c:?}").contains("secret-tok"));
    }

    #[test]
    fn environment_wins_over_config() {
        let mut c = Config::default();
        c.database_config.url = Some("sqlite://a.db".into());
        c.discord_config.api_base_url = Some("http://config/".into());
        let env =
            Environment::from_lookup(|k| (k == "DATABASE_URL").then(|| "sqlite://b.db".into()));
        let s = Settings::resolve(c, env, None);
        assert_eq!(s.database_url, "sqlite://b.db");
        assert_eq!(s.discord_api_base.as_deref(), Some("http://config"));
    }
}

/// Keys `/config set` may change; everything else is edited in the file.
pub const EDITABLE_KEYS: [&str; 14] = [
    "discordConfig.salesChannelId",
    "discordConfig.refundsChannelId",
    "discordConfig.subscriptionsChannelId",
    "payhipConfig.eventTypes.newSale",
    "payhipConfig.eventTypes.refund",
    "payhipConfig.eventTypes.subscriptions",
    "xsollaConfig.eventTypes.newSale",
    "xsollaConfig.eventTypes.refund",
    "xsollaConfig.eventTypes.subscriptions",
    "embedColors.newSale",
    "embedColors.refund",
    "embedColors.subscription",
    "privacy.showCustomer",
    "xsollaConfig.announceSubscriptionUpdates",
];

/// Sets `key` to `value` in the file's JSON, keeping every other key (known or not) as it was,
/// and returns the new text after checking that the whole file is still valid.
pub fn edit(original: &str, key: &str, value: &str) -> Result<(String, Config), Vec<Problem>> {
    let problem = |message: String| {
        vec![Problem {
            path: key.to_owned(),
            message,
        }]
    };
    if !EDITABLE_KEYS.contains(&key) {
        return Err(problem(format!(
            "cannot be changed from Discord; editable keys: {}",
            EDITABLE_KEYS.join(", ")
        )));
    }
    let mut root: Value = serde_json::from_str(original)
        .map_err(|e| problem(format!("config.json is not valid JSON: {e}")))?;
    let is_bool =
        key.contains(".eventTypes.") || key.starts_with("privacy.") || key.ends_with("Updates");
    let new_value = if is_bool {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Value::Bool(true),
            "false" | "off" | "no" => Value::Bool(false),
            other => return Err(problem(format!("expected true or false, found {other:?}"))),
        }
    } else {
        Value::String(value.trim().to_owned())
    };
    let mut node = &mut root;
    let parts: Vec<&str> = key.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        if !node.is_object() {
            return Err(problem(
                "the file has a non-object where a section is expected".into(),
            ));
        }
        node = node
            .as_object_mut()
            .map(|o| {
                o.entry(part.to_string())
                    .or_insert_with(|| Value::Object(Default::default()))
            })
            .ok_or_else(|| problem("unexpected file shape".into()))?;
    }
    match node.as_object_mut() {
        Some(o) => {
            o.insert(parts[parts.len() - 1].to_owned(), new_value);
        }
        None => {
            return Err(problem(
                "the file has a non-object where a section is expected".into(),
            ))
        }
    }
    let text = serde_json::to_string_pretty(&root).map_err(|e| problem(e.to_string()))?;
    match Config::from_json(&text) {
        Ok(config) => Ok((text + "\n", config)),
        Err(ConfigError::Invalid(p)) => Err(p),
        Err(e) => Err(problem(e.to_string())),
    }
}

/// Replaces the file in one step (write beside it, then rename), so a crash never leaves half a
/// config behind.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod edit_tests {
    use super::*;

    #[test]
    fn edits_keep_unknown_keys_and_validate() {
        let original = r##"{"custom": {"keep": 1}, "embedColors": {"refund": "#FF0000"}}"##;
        let (text, config) = edit(original, "embedColors.newSale", "#112233").unwrap();
        assert!(text.contains("\"keep\": 1"));
        assert_eq!(config.embed_colors.new_sale, Color(0x112233));
        let (_, config) = edit(&text, "payhipConfig.eventTypes.refund", "off").unwrap();
        assert!(!config.payhip_config.event_types.refund);
        let err = edit(original, "embedColors.newSale", "green").unwrap_err();
        assert_eq!(err[0].path, "embedColors.newSale");
        assert!(edit(original, "databaseConfig.url", "x").is_err());
    }
}
