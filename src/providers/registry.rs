//! Every store this build takes webhooks from, in one table. The table owns what the rest of the
//! bot names a store by: its config section, its default path and the variable holding its secret.
//! `config` reads the sections and secrets of the stores listed here, `check-config` and the
//! start-up log name them, and the router serves their paths, so a new store is its module, one
//! line in [`STORES`] and its `ProviderChoice` entry for the slash commands.

use std::sync::Arc;

use super::Provider;
use crate::config::{Config, ProviderConfig, Secrets};

/// One store: everything a seller sets to connect it.
pub struct Store {
    /// The provider's stored name (`Provider::name`).
    pub name: &'static str,
    /// Its section in config.json, e.g. `stripeConfig`.
    pub section: &'static str,
    /// Where its webhooks arrive unless `<section>.webhookPath` says otherwise.
    pub default_path: &'static str,
    /// The environment variable holding what verifies its webhooks.
    pub secret: &'static str,
    /// Where the seller finds that secret, for messages that tell them what to set.
    pub secret_source: &'static str,
    /// Other environment variables the store reads (never logged either).
    pub also: &'static [&'static str],
    /// The provider, configured from the secrets at hand.
    pub build: fn(&Secrets) -> Arc<dyn Provider>,
}

impl Store {
    /// Whether the section and secret are this table's to read. Payhip and Xsolla predate the
    /// table: their sections and secrets are fields of `Config` and `Secrets` of their own.
    pub fn is_tabled(&self) -> bool {
        !matches!(self.name, super::payhip::NAME | super::xsolla::NAME)
    }

    /// Its section of `config` (defaults when the file has none).
    pub fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        config.stores.section(self.section)
    }

    /// The path its webhooks are received at.
    pub fn route(&self, config: &Config) -> String {
        self.settings(config)
            .webhook_path
            .clone()
            .unwrap_or_else(|| self.default_path.to_owned())
    }
}

/// The stores, in the order they are listed to sellers.
pub static STORES: &[Store] = &[
    Store {
        name: super::payhip::NAME,
        section: "payhipConfig",
        default_path: "/webhook/payhip",
        secret: "PAYHIP_API_KEY",
        secret_source: "Payhip: Settings > Developer",
        also: &[],
        build: |s| Arc::new(super::payhip::Payhip::new(s.payhip_api_key.as_ref())),
    },
    Store {
        name: super::xsolla::NAME,
        section: "xsollaConfig",
        default_path: super::xsolla::DEFAULT_PATH,
        secret: "XSOLLA_SECRET_KEY",
        secret_source: "Xsolla: Project settings > Webhooks > Secret key",
        also: &[],
        build: |s| Arc::new(super::xsolla::Xsolla::new(s.xsolla_secret_key.as_ref())),
    },
    super::stripe::STORE,
    super::lemonsqueezy::STORE,
    super::gumroad::STORE,
    super::kofi::STORE,
];

/// The store the registry calls `name`.
pub fn find(name: &str) -> Option<&'static Store> {
    STORES.iter().find(|s| s.name == name)
}

/// The store whose section in config.json is `section`.
pub fn by_section(section: &str) -> Option<&'static Store> {
    STORES.iter().find(|s| s.section == section)
}

/// Every provider, configured from the secrets at hand.
pub fn providers(secrets: &Secrets) -> Vec<Arc<dyn Provider>> {
    STORES.iter().map(|s| (s.build)(secrets)).collect()
}
