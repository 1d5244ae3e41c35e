//! Reading `config.json` and checking it: every problem is reported with its JSON path, not just
//! the first, so a seller fixes the file in one go.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::schema::Config;
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
