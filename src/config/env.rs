//! What comes from the environment rather than the file: secrets (whose `Debug` never shows
//! them), a few overrides, and the [`Settings`] resolved from both.

use std::fmt;
use std::path::{Path, PathBuf};

use super::schema::{Config, DEFAULT_DATABASE_URL};
use super::table::StoreKeys;

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
    /// The secrets of the stores in [`super::table`], by variable name.
    pub stores: super::StoreSecrets,
    /// Bearer token `/metrics` asks for; with it, `/metrics` is also served on the public port.
    pub metrics_token: Option<Secret>,
    /// Payhip product secret keys for the license API, by variable name
    /// (`PAYHIP_PRODUCT_SECRET_<PRODUCT KEY>`, see [`super::roles::secret_variable`]).
    pub payhip_product_secrets: std::collections::BTreeMap<String, Secret>,
}

/// Payhip's or Xsolla's keys; `None` for the other stores. Only these two are named where
/// `check-config` lists the secrets to set when no store is set up (see `check`), to keep that
/// line short; a store that is set up is always named by its own section.
pub fn store_keys(name: &str) -> Option<&'static StoreKeys> {
    super::table::find(name).filter(|k| !k.is_tabled())
}

const PAYHIP_API_KEY: &str = super::table::PAYHIP.secret;
const XSOLLA_SECRET_KEY: &str = super::table::XSOLLA.secret;

#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub secrets: Secrets,
    pub database_url: Option<String>,
    pub discord_api_base: Option<String>,
    /// Replaces `https://payhip.com` for the license API: a proxy, or a test double.
    pub payhip_api_base: Option<String>,
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
                payhip_api_key: non_empty(PAYHIP_API_KEY).map(Secret),
                xsolla_secret_key: non_empty(XSOLLA_SECRET_KEY).map(Secret),
                metrics_token: non_empty("METRICS_TOKEN").map(Secret),
                stores: super::StoreSecrets::from_lookup(non_empty),
                payhip_product_secrets: Default::default(),
            },
            database_url: non_empty("DATABASE_URL"),
            discord_api_base: non_empty("DISCORD_API_BASE"),
            payhip_api_base: non_empty("PAYHIP_API_BASE"),
        }
    }

    /// Reads the secrets of the `stores` list, whose variable names only the file knows, through
    /// `get` (the process environment, `.env` included, once [`Environment::load`] ran).
    pub fn read_listed_secrets(&mut self, config: &Config, get: impl Fn(&str) -> Option<String>) {
        for var in config.listed.iter().filter_map(|s| s.secret_var()) {
            let known = var == PAYHIP_API_KEY
                || var == XSOLLA_SECRET_KEY
                || self.secrets.stores.get(var).is_some();
            if known {
                continue;
            }
            let value = get(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty());
            if let Some(value) = value {
                self.secrets.stores.set(var, Some(Secret(value)));
            }
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
        let mut env = Self::from_lookup(|k| std::env::var(k).ok());
        // Their names follow the seller's product keys, so they are found by prefix.
        for (name, value) in std::env::vars() {
            if name.starts_with("PAYHIP_PRODUCT_SECRET_") && !value.trim().is_empty() {
                env.secrets
                    .payhip_product_secrets
                    .insert(name, Secret::new(value.trim()));
            }
        }
        env
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Everything the app needs to start, resolved from config + environment.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: Config,
    pub secrets: Secrets,
    pub database_url: String,
    pub discord_api_base: Option<String>,
    pub payhip_api_base: Option<String>,
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
            payhip_api_base: env
                .payhip_api_base
                .map(|b| b.trim_end_matches('/').to_owned()),
            config_path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

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
