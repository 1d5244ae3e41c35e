//! The address to paste into each store. The bot only knows where it listens on this machine;
//! where the internet reaches it (a domain behind a proxy, a tunnel) comes from
//! `webhookConfig.webhookURL`, the key the earlier bot kept it in.

use std::sync::Arc;

use crate::config::Config;
use crate::providers::Provider;

/// One line per store to paste a URL into, or one line saying how to get them.
pub fn lines(config: &Config, providers: &[Arc<dyn Provider>]) -> Vec<String> {
    let stores = super::stores_in_use(providers);
    match config.webhook_config.public_base() {
        Some(base) => stores
            .iter()
            .map(|p| {
                format!(
                    "public webhook URL for {name}: {base}{route} (paste it into {name}'s webhook settings)",
                    name = p.display_name(),
                    route = p.route(config),
                )
            })
            .collect(),
        None => {
            let routes: Vec<String> = stores
                .iter()
                .map(|p| format!("{} for {}", p.route(config), p.display_name()))
                .collect();
            vec![format!(
                "public webhook URL not known: set webhookConfig.webhookURL to the address stores reach this bot at, like \"https://sales.example.com\" (a domain or a tunnel: see docs/deployment.md); each store's webhook URL is that address followed by {}",
                routes.join(", ")
            )]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, Secrets};

    #[test]
    fn each_set_up_store_gets_its_url() {
        let providers = crate::providers::registry(&Secrets {
            payhip_api_key: Some(Secret::new("k")),
            ..Secrets::default()
        });
        let config = Config::from_json(
            r#"{ "webhookConfig": { "webhookURL": "https://sales.example.com/payhip", "webhookPath": "/payhip" } }"#,
        )
        .unwrap();
        assert_eq!(
            lines(&config, &providers),
            ["public webhook URL for Payhip: https://sales.example.com/payhip (paste it into Payhip's webhook settings)"]
        );
        let unset = lines(&Config::default(), &providers);
        assert_eq!(unset.len(), 1);
        assert!(
            unset[0].ends_with("followed by /webhook/payhip for Payhip"),
            "{unset:?}"
        );
    }
}
