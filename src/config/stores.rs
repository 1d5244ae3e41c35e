//! The sections and secrets of the stores listed in [`super::table`]
//! (`stripeConfig` and `STRIPE_WEBHOOK_SECRET`, `gumroadConfig` and `GUMROAD_WEBHOOK_TOKEN`, …).
//! They are read by the keys the table names, so a new store adds nothing here. Payhip and Xsolla
//! keep the fields of their own they had before the table.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::LazyLock;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::load::join_path;
use super::table::tabled;
use super::{Problem, ProviderConfig, Secret};

/// What a store's section means when the file has none.
static DEFAULT: LazyLock<ProviderConfig> = LazyLock::new(ProviderConfig::default);

/// Each tabled store's section, by its key in config.json. Serialized as top-level keys of the
/// config (every store listed, so tools that list the known keys see them all).
#[derive(Debug, Clone, Default)]
pub struct StoreSections(BTreeMap<&'static str, ProviderConfig>);

impl StoreSections {
    /// The section `key` (e.g. `stripeConfig`); its defaults when the file has none.
    pub fn section(&self, key: &str) -> &ProviderConfig {
        self.0.get(key).unwrap_or(&DEFAULT)
    }

    /// The section `key`, to change it. `None` for a key no store in the table has.
    pub fn section_mut(&mut self, key: &str) -> Option<&mut ProviderConfig> {
        let store = tabled().find(|s| s.section == key)?;
        Some(self.0.entry(store.section).or_default())
    }

    /// Reads every tabled store's section from the file's top level; a bad one is reported with
    /// its path and the others are still read.
    pub(super) fn read(root: &Map<String, Value>, problems: &mut Vec<Problem>) -> Self {
        let mut out = BTreeMap::new();
        for store in tabled() {
            let Some(value) = root.get(store.section) else {
                continue;
            };
            match serde_path_to_error::deserialize(value) {
                Ok(parsed) => {
                    out.insert(store.section, parsed);
                }
                Err(e) => problems.push(Problem {
                    path: join_path(store.section, &e.path().to_string()),
                    message: e.inner().to_string(),
                }),
            }
        }
        Self(out)
    }

    /// Each store's section with its key, defaults included, in the table's order.
    pub(super) fn all(&self) -> impl Iterator<Item = (&'static str, &ProviderConfig)> {
        tabled().map(|s| (s.section, self.section(s.section)))
    }

    /// Each store's webhook path, as `("<section>.webhookPath", path)`.
    pub(super) fn routes(&self) -> Vec<(String, String)> {
        tabled()
            .map(|s| {
                let path = self
                    .section(s.section)
                    .webhook_path
                    .clone()
                    .unwrap_or_else(|| s.default_path.to_owned());
                (format!("{}.webhookPath", s.section), path)
            })
            .collect()
    }
}

impl Serialize for StoreSections {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (key, section) in self.all() {
            map.serialize_entry(key, section)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for StoreSections {
    /// Takes the tabled stores' keys from a map and leaves every other key alone, so that it
    /// can sit flattened among the config's own sections.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Sections;
        impl<'de> Visitor<'de> for Sections {
            type Value = StoreSections;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("store sections")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StoreSections, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    match tabled().find(|s| s.section == key) {
                        Some(store) => {
                            out.insert(store.section, map.next_value::<ProviderConfig>()?);
                        }
                        None => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(StoreSections(out))
            }
        }
        d.deserialize_map(Sections)
    }
}

/// The tabled stores' secrets (and the other variables they read), by variable name. `Debug`
/// shows the names only.
#[derive(Debug, Clone, Default)]
pub struct StoreSecrets(BTreeMap<String, Secret>);

impl StoreSecrets {
    pub fn get(&self, name: &str) -> Option<&Secret> {
        self.0.get(name)
    }

    /// Sets (or with `None`, removes) the variable `name`, as the environment would.
    pub fn set(&mut self, name: &str, value: Option<Secret>) {
        match value {
            Some(v) => self.0.insert(name.to_owned(), v),
            None => self.0.remove(name),
        };
    }

    /// Reads every variable the tabled stores name, through `non_empty`.
    pub(super) fn from_lookup(non_empty: impl Fn(&str) -> Option<String>) -> Self {
        let names = tabled().flat_map(|s| std::iter::once(s.secret).chain(s.also.iter().copied()));
        Self(
            names
                .filter_map(|name| non_empty(name).map(|v| (name.to_owned(), Secret::new(v))))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, ConfigError, Environment};

    fn problems(json: &str) -> Vec<String> {
        match Config::from_json(json) {
            Err(ConfigError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn a_store_section_is_read_by_its_key_and_checked_with_the_others() {
        let c = Config::from_json(
            r#"{ "stripeConfig": { "eventTypes": { "refund": false }, "webhookPath": "/pay/stripe" } }"#,
        )
        .unwrap();
        let stripe = c.stores.section("stripeConfig");
        assert!(!stripe.event_types.refund && stripe.event_types.new_sale);
        assert_eq!(stripe.webhook_path.as_deref(), Some("/pay/stripe"));
        let bad = problems(r#"{ "stripeConfig": { "eventTypes": { "refund": "no" } } }"#);
        assert!(
            bad[0].starts_with("stripeConfig.eventTypes.refund:"),
            "{bad:?}"
        );
        let taken = problems(r#"{ "stripeConfig": { "webhookPath": "/webhook/xsolla" } }"#);
        assert!(
            taken[0].starts_with("stripeConfig.webhookPath:"),
            "{taken:?}"
        );
        let forward = problems(r#"{ "stripeConfig": { "forwardUrl": "ftp://x" } }"#);
        assert!(
            forward[0].starts_with("stripeConfig.forwardUrl:"),
            "{forward:?}"
        );
    }

    #[test]
    fn every_store_section_is_a_known_key_and_its_secret_stays_hidden() {
        let keys = serde_json::to_value(Config::default()).unwrap();
        assert!(keys["stripeConfig"]["eventTypes"]["newSale"]
            .as_bool()
            .unwrap());
        let env = Environment::from_lookup(|k| {
            (k == "STRIPE_WEBHOOK_SECRET").then(|| "whsec_hidden_value".to_owned())
        });
        assert!(env.secrets.stores.get("STRIPE_WEBHOOK_SECRET").is_some());
        assert!(!format!("{env:?}").contains("whsec_hidden_value"));
    }
}
