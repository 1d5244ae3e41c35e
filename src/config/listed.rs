//! The `stores` list: several stores in one bot, each with its own name, path and secret, so two
//! accounts of one provider (or two providers) are told apart. The single-store sections
//! (`payhipConfig`, `stripeConfig`, …) stay: each is a store named after its provider, unless a
//! listed store takes that name (and with it the section's history and endpoint).

use serde::{Deserialize, Serialize};

use super::load::Problem;
use super::schema::{Config, ProviderConfig, XSOLLA_DEFAULT_PATH};
use super::table::{self, StoreKeys};

/// One store of the `stores` list. Its other keys are those of a store's section
/// (`eventTypes`, `webhookPath`, `notify`, `products`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListedStore {
    /// Stored with each of its events and shown in notices: what `/sales` and `/stats` filter by.
    pub name: String,
    /// Which provider's webhooks it takes (`payhip`, `stripe`, …).
    pub provider: String,
    /// The environment variable holding its secret. Unset: the provider's own variable, only
    /// for a store named after its provider.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    #[serde(flatten)]
    pub settings: ProviderConfig,
}

impl ListedStore {
    pub fn keys(&self) -> Option<&'static StoreKeys> {
        table::find(&self.provider)
    }

    /// Whether it stands in for its provider's single-store section (same name).
    pub fn replaces_section(&self) -> bool {
        self.name == self.provider
    }

    /// The variable its secret is read from.
    pub fn secret_var(&self) -> Option<&str> {
        match &self.secret_env {
            Some(var) => Some(var.as_str()),
            None if self.replaces_section() => self.keys().map(|k| k.secret),
            None => None,
        }
    }

    /// The path its webhooks arrive at: `webhookPath`, else the section's path for a store named
    /// after its provider (so the endpoint stores already call keeps working), else
    /// `/webhook/<name>`.
    pub fn route(&self, config: &Config) -> String {
        if let Some(path) = &self.settings.webhook_path {
            return path.clone();
        }
        match self.keys() {
            Some(keys) if self.replaces_section() => section_route(keys, config),
            _ => format!("/webhook/{}", self.name),
        }
    }
}

impl Config {
    /// The listed store called `name`.
    pub fn listed_store(&self, name: &str) -> Option<&ListedStore> {
        self.listed.iter().find(|s| s.name == name)
    }

    /// Whether a listed store takes the place of the single-store section of `provider`.
    pub fn section_replaced(&self, provider: &str) -> bool {
        self.listed
            .iter()
            .any(|s| s.replaces_section() && s.name == provider)
    }
}

/// The path of a provider's single-store section.
pub fn section_route(keys: &StoreKeys, config: &Config) -> String {
    match keys.name {
        "payhip" => config.webhook_config.webhook_path.clone(),
        "xsolla" => config
            .xsolla_config
            .webhook_path
            .clone()
            .unwrap_or_else(|| XSOLLA_DEFAULT_PATH.to_owned()),
        _ => keys.route(config),
    }
}

fn is_name(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_variable(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// What is wrong with the list on its own (paths are checked with every other endpoint's).
pub(super) fn problems(config: &Config) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut bad = |path: String, message: String| out.push(Problem { path, message });
    let providers: Vec<&str> = table::STORES.iter().map(|s| s.name).collect();
    for (i, store) in config.listed.iter().enumerate() {
        let at = format!("stores[{i}]");
        if !is_name(&store.name) {
            bad(
                format!("{at}.name"),
                format!("expected 1 to 32 lowercase letters, digits, - or _, like \"eu-shop\", found {:?}", store.name),
            );
        } else if config.listed[..i].iter().any(|s| s.name == store.name) {
            bad(
                format!("{at}.name"),
                format!("{:?} is the name of an earlier store", store.name),
            );
        } else if providers.contains(&store.name.as_str()) && !store.replaces_section() {
            bad(
                format!("{at}.name"),
                format!(
                    "{:?} is a provider's name: a store may take it only with \"provider\": {:?}",
                    store.name, store.name
                ),
            );
        }
        if store.keys().is_none() {
            bad(
                format!("{at}.provider"),
                format!(
                    "expected one of {}, found {:?}",
                    providers.join(", "),
                    store.provider
                ),
            );
        }
        match &store.secret_env {
            Some(var) if !is_variable(var) => bad(
                format!("{at}.secretEnv"),
                format!("expected an environment variable name like \"PAYHIP_EU_API_KEY\", found {var:?}"),
            ),
            None if !store.replaces_section() => bad(
                format!("{at}.secretEnv"),
                "expected the environment variable holding this store's secret, like \"PAYHIP_EU_API_KEY\"".into(),
            ),
            _ => {}
        }
    }
    out
}

/// A single-store section a listed store stands in for, yet set in the file: it is not read.
pub(super) fn warnings(config: &Config) -> Vec<String> {
    let default = serde_json::to_value(ProviderConfig::default()).ok();
    config
        .listed
        .iter()
        .filter(|s| s.replaces_section())
        .filter_map(|s| {
            let keys = s.keys()?;
            let section = match keys.name {
                "payhip" => &config.payhip_config,
                "xsolla" => &config.xsolla_config,
                _ => config.stores.section(keys.section),
            };
            (serde_json::to_value(section).ok() != default).then(|| {
                format!(
                    "{} is not read: the store {:?} of the stores list takes its place (move its keys there)",
                    keys.section, s.name
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    fn problems(json: &str) -> Vec<String> {
        match Config::from_json(json) {
            Err(ConfigError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn listed_stores_read_with_their_own_path_and_secret() {
        let c = Config::from_json(
            r#"{ "stores": [
                { "name": "eu", "provider": "payhip", "secretEnv": "PAYHIP_EU_KEY",
                  "eventTypes": { "refund": false },
                  "notify": { "newSale": [ { "channelId": "7" } ] },
                  "products": [ { "product": "AbC12", "notify": { "newSale": [] } } ] },
                { "name": "payhip", "provider": "payhip" } ] }"#,
        )
        .unwrap();
        let eu = c.listed_store("eu").unwrap();
        assert_eq!(eu.route(&c), "/webhook/eu");
        assert_eq!(eu.secret_var(), Some("PAYHIP_EU_KEY"));
        assert!(!eu.settings.event_types.refund);
        assert_eq!(eu.settings.products[0].product, "AbC12");
        let own = c.listed_store("payhip").unwrap();
        assert_eq!(own.route(&c), "/webhook/payhip", "the section's endpoint");
        assert_eq!(own.secret_var(), Some("PAYHIP_API_KEY"));
        assert!(c.section_replaced("payhip") && !c.section_replaced("stripe"));
        assert!(c.warnings().is_empty(), "{:?}", c.warnings());
        let shadowed = Config::from_json(
            r#"{ "payhipConfig": { "announceTests": true },
                 "stores": [ { "name": "payhip", "provider": "payhip" } ] }"#,
        )
        .unwrap();
        assert!(shadowed.warnings()[0].starts_with("payhipConfig is not read"));
    }

    #[test]
    fn a_listed_store_is_named_and_keyed_properly() {
        let p = problems(
            r#"{ "stores": [
                { "name": "EU shop", "provider": "payhip", "secretEnv": "K" },
                { "name": "a", "provider": "shopify", "secretEnv": "K" },
                { "name": "b", "provider": "payhip" },
                { "name": "stripe", "provider": "payhip", "secretEnv": "K" },
                { "name": "c", "provider": "kofi", "secretEnv": "K",
                  "notify": { "refund": [ { "channelId": "1", "webhookUrl": "x" } ] } },
                { "name": "d", "provider": "kofi", "secretEnv": "K", "webhookPath": "/webhook/kofi" },
                { "name": "c", "provider": "kofi", "secretEnv": "K", "webhookPath": "/c2" } ] }"#,
        );
        let has = |prefix: &str| p.iter().any(|m| m.starts_with(prefix));
        assert!(has("stores[0].name: expected"), "{p:?}");
        assert!(has("stores[1].provider: expected one of"), "{p:?}");
        assert!(has("stores[2].secretEnv: expected"), "{p:?}");
        assert!(
            has("stores[3].name: \"stripe\" is a provider's name"),
            "{p:?}"
        );
        assert!(has("stores[4].notify.refund[0]: expected either"), "{p:?}");
        assert!(
            has("stores[5].webhookPath: \"/webhook/kofi\" is already used"),
            "{p:?}"
        );
        assert!(
            has("stores[6].name: \"c\" is the name of an earlier store"),
            "{p:?}"
        );
    }
}
