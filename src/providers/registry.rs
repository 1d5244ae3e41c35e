//! Every store this build takes webhooks from, paired with the code that takes them. What a
//! seller sets for a store (its section, default path and secret) is in [`crate::config::table`];
//! the router serves each store's path and `check-config` names them, so a new store is its
//! module, its line in that table, one line in [`STORES`] and its `ProviderChoice` entry for the
//! slash commands.

use std::sync::Arc;

use super::Provider;
use crate::config::table::{self, StoreKeys};
use crate::config::{Config, Secret, Secrets};

/// One store: its keys, and its provider.
pub struct Store {
    pub keys: &'static StoreKeys,
    /// The provider, configured from the secrets at hand.
    pub build: fn(&Secrets) -> Arc<dyn Provider>,
}

/// The stores, in the order of [`table::STORES`].
pub static STORES: &[Store] = &[
    Store {
        keys: &table::PAYHIP,
        build: |s| Arc::new(super::payhip::Payhip::new(s.payhip_api_key.as_ref())),
    },
    Store {
        keys: &table::XSOLLA,
        build: |s| Arc::new(super::xsolla::Xsolla::new(s.xsolla_secret_key.as_ref())),
    },
    super::stripe::STORE,
    super::lemonsqueezy::STORE,
    super::gumroad::STORE,
    super::kofi::STORE,
];

/// Every provider, configured from the secrets at hand.
pub fn providers(secrets: &Secrets) -> Vec<Arc<dyn Provider>> {
    STORES.iter().map(|s| (s.build)(secrets)).collect()
}

/// The single-store sections' providers (but those a listed store stands in for), then each
/// listed store's, built with that store's secret in place of its provider's.
pub fn for_config(config: &Config, secrets: &Secrets) -> Vec<Arc<dyn Provider>> {
    let sections = STORES
        .iter()
        .filter(|s| !config.section_replaced(s.keys.name))
        .map(|s| (s.build)(secrets));
    let listed = config.listed.iter().filter_map(|listed| {
        let store = STORES.iter().find(|s| s.keys.name == listed.provider)?;
        let var = listed.secret_var()?;
        let mut own = with_secret(secrets, store.keys, secret(secrets, var));
        // The section's other variables (GUMROAD_SELLER_ID) name its own account, not this one.
        if !listed.replaces_section() {
            for also in store.keys.also {
                own.stores.set(also, None);
            }
        }
        let provider: Arc<dyn Provider> = Arc::new(super::listed::Listed::new(
            &listed.name,
            var,
            (store.build)(&own),
        ));
        Some(provider)
    });
    sections.chain(listed).collect()
}

/// The value of the variable `var`, wherever the environment's reading put it.
pub fn secret(secrets: &Secrets, var: &str) -> Option<Secret> {
    match var {
        v if v == table::PAYHIP.secret => secrets.payhip_api_key.clone(),
        v if v == table::XSOLLA.secret => secrets.xsolla_secret_key.clone(),
        v => secrets.stores.get(v).cloned(),
    }
}

/// `secrets` with `value` where the provider of `keys` looks for its secret.
fn with_secret(secrets: &Secrets, keys: &StoreKeys, value: Option<Secret>) -> Secrets {
    let mut out = secrets.clone();
    match keys.name {
        "payhip" => out.payhip_api_key = value,
        "xsolla" => out.xsolla_secret_key = value,
        _ => out.stores.set(keys.secret, value),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_store_is_built_with_its_own_secret_beside_the_sections() {
        let config = Config::from_json(
            r#"{ "stores": [
                { "name": "eu", "provider": "payhip", "secretEnv": "PAYHIP_EU_KEY" },
                { "name": "stripe", "provider": "stripe" } ] }"#,
        )
        .unwrap();
        let mut secrets = Secrets {
            payhip_api_key: Some(Secret::new("section-key")),
            ..Secrets::default()
        };
        let built = for_config(&config, &secrets);
        let names: Vec<(&str, &str)> = built.iter().map(|p| (p.name(), p.kind())).collect();
        assert_eq!(
            names,
            [
                ("payhip", "payhip"),
                ("xsolla", "xsolla"),
                ("lemonsqueezy", "lemonsqueezy"),
                ("gumroad", "gumroad"),
                ("kofi", "kofi"),
                ("eu", "payhip"),
                ("stripe", "stripe"),
            ]
        );
        let eu = &built[5];
        assert!(
            eu.missing_secret_hint()
                .is_some_and(|h| h.contains("PAYHIP_EU_KEY")),
            "the section's key is not the store's"
        );
        assert_eq!(eu.display_name(), "Payhip (eu)");
        secrets
            .stores
            .set("PAYHIP_EU_KEY", Some(Secret::new("eu-key")));
        assert!(for_config(&config, &secrets)[5]
            .missing_secret_hint()
            .is_none());
    }

    #[test]
    fn every_store_in_the_table_has_its_provider_in_the_same_order() {
        let providers = providers(&Secrets::default());
        let names: Vec<&str> = providers.iter().map(|p| p.name()).collect();
        let keys: Vec<&str> = table::STORES.iter().map(|k| k.name).collect();
        assert_eq!(names, keys);
        for (store, provider) in STORES.iter().zip(&providers) {
            assert_eq!(store.keys.name, provider.name());
        }
    }
}
