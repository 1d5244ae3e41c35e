//! Reading `config.json` and checking it: every problem is reported with its JSON path, not just
//! the first, so a seller fixes the file in one go.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::schema::{Config, RESERVED_PATHS, XSOLLA_DEFAULT_PATH};
use crate::domain::NoticeKind;

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
        ] {
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
    use crate::config::Color;

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
}
