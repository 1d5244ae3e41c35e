//! Reading `config.json` and checking it: every problem is reported with its JSON path, not just
//! the first, so a seller fixes the file in one go.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

use super::words;

use super::schema::Config;

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
                    config.$field = read_section($key, v, &mut problems);
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
            roles => "roles",
            listed => "stores",
            digests => "digests",
        );
        config.stores = super::StoreSections::read(&root, &mut problems);
        problems.extend(config.validate());
        let unknown = super::keys::unknown_keys(&root);
        if problems.is_empty() {
            config.unknown_keys = unknown;
            Ok(config)
        } else {
            // Named too: a typo may be why a value is missing, and it is one fix more to make.
            problems.extend(unknown);
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Keys in the file that the bot does not read, each with the nearest key it does read.
    /// `check-config` fails on them; the bot itself only warns, so an old file still starts.
    pub fn unknown_keys(&self) -> &[Problem] {
        &self.unknown_keys
    }
}

/// One section, with every value of a wrong type reported: serde stops at the first, so each
/// one found is taken out and the section read again until the rest reads.
fn read_section<T: DeserializeOwned + Default>(
    key: &str,
    section: &Value,
    problems: &mut Vec<Problem>,
) -> T {
    let mut rest = section.clone();
    // Each round takes a key out, so this ends; the bound only guards against a serde surprise.
    for _ in 0..256 {
        match serde_path_to_error::deserialize(&rest) {
            Ok(parsed) => return parsed,
            Err(e) => {
                let at = e.path().clone();
                problems.push(Problem {
                    path: join_path(key, &at.to_string()),
                    message: words::plain(&e.inner().to_string(), find(section, &at)),
                });
                if !take_out(&mut rest, &at) {
                    break;
                }
            }
        }
    }
    T::default()
}

/// The value at `path` in the seller's section, to show what was found there.
fn find<'a>(mut node: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    for segment in path.iter() {
        node = match segment {
            Segment::Map { key } => node.get(key)?,
            Segment::Seq { index } => node.get(index)?,
            Segment::Enum { .. } | Segment::Unknown => return None,
        };
    }
    Some(node)
}

/// Removes the key holding `path` (the whole list, for a bad list item); false when there is no
/// key to remove, i.e. the section itself has the wrong type.
fn take_out(section: &mut Value, path: &serde_path_to_error::Path) -> bool {
    let keys: Vec<&str> = path
        .iter()
        .map_while(|s| match s {
            Segment::Map { key } => Some(key.as_str()),
            _ => None,
        })
        .collect();
    let Some((last, parents)) = keys.split_last() else {
        return false;
    };
    let mut node = section;
    for key in parents {
        match node.get_mut(*key) {
            Some(next) => node = next,
            None => return false,
        }
    }
    node.as_object_mut()
        .and_then(|o| o.shift_remove(*last))
        .is_some()
}

pub(super) fn join_path(section: &str, inner: &str) -> String {
    if inner == "." || inner.is_empty() {
        section.to_owned()
    } else if inner.starts_with('[') {
        format!("{section}{inner}")
    } else {
        format!("{section}.{inner}")
    }
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
        assert_eq!(
            c.unknown_keys()[0].path,
            "someKeyOnlyTheOldBotKnew",
            "loads, but the key nobody reads is named"
        );
    }

    #[test]
    fn every_wrong_type_in_a_section_is_reported_in_words() {
        let p = problems(
            r#"{ "webhookConfig": { "webhookPort": "abc", "maxConnections": true, "bindAddress": "localhost" },
                 "notifications": { "refund": { "webhookUrls": "https://discord.com/api/webhooks/1/t" } } }"#,
        );
        let text: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "webhookConfig.webhookPort: expected a whole number from 0 to 65535, found \"abc\"",
                "webhookConfig.maxConnections: expected a whole number, 0 or more, found true",
                "webhookConfig.bindAddress: expected an IP address like \"0.0.0.0\" or \"127.0.0.1\", found \"localhost\"",
                "notifications.refund.webhookUrls: expected a list in square brackets, like [\"…\"], found \"https://discord.com/api/webhooks/1/t\"",
            ]
        );
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
