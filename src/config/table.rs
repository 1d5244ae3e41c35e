//! Every store this build takes webhooks from, as the names a seller sets to connect it: its
//! config section, its default path and the variable holding its secret. The facts live here,
//! below the providers, so that reading the file and the environment needs no provider; the
//! provider registry (`providers::registry`) pairs each entry with the code that verifies and
//! translates the store's webhooks.

use super::schema::{Config, ProviderConfig, XSOLLA_DEFAULT_PATH};

/// One store: everything a seller sets to connect it.
#[derive(Debug)]
pub struct StoreKeys {
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
}

impl StoreKeys {
    /// Whether the section and secret are this table's to read. Payhip and Xsolla predate the
    /// table: their sections and secrets are fields of `Config` and `Secrets` of their own.
    pub fn is_tabled(&self) -> bool {
        !matches!(self.name, "payhip" | "xsolla")
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

pub const PAYHIP: StoreKeys = StoreKeys {
    name: "payhip",
    section: "payhipConfig",
    default_path: "/webhook/payhip",
    secret: "PAYHIP_API_KEY",
    secret_source: "Payhip: Settings > Developer",
    also: &[],
};

pub const XSOLLA: StoreKeys = StoreKeys {
    name: "xsolla",
    section: "xsollaConfig",
    default_path: XSOLLA_DEFAULT_PATH,
    secret: "XSOLLA_SECRET_KEY",
    secret_source: "Xsolla: Project settings > Webhooks > Secret key",
    also: &[],
};

pub const STRIPE: StoreKeys = StoreKeys {
    name: "stripe",
    section: "stripeConfig",
    default_path: "/webhook/stripe",
    secret: "STRIPE_WEBHOOK_SECRET",
    secret_source: "Stripe: Developers > Webhooks > your endpoint > Signing secret",
    also: &[],
};

pub const LEMONSQUEEZY: StoreKeys = StoreKeys {
    name: "lemonsqueezy",
    section: "lemonSqueezyConfig",
    default_path: "/webhook/lemonsqueezy",
    secret: "LEMONSQUEEZY_SIGNING_SECRET",
    secret_source: "Lemon Squeezy: Settings > Webhooks > your webhook > Signing secret",
    also: &[],
};

pub const GUMROAD: StoreKeys = StoreKeys {
    name: "gumroad",
    section: "gumroadConfig",
    default_path: "/webhook/gumroad",
    secret: "GUMROAD_WEBHOOK_TOKEN",
    secret_source: "a secret of your own, also put in the ping URL as ?token=…",
    also: &["GUMROAD_SELLER_ID"],
};

pub const KOFI: StoreKeys = StoreKeys {
    name: "kofi",
    section: "kofiConfig",
    default_path: "/webhook/kofi",
    secret: "KOFI_VERIFICATION_TOKEN",
    secret_source: "Ko-fi: More > API > Webhooks > Advanced > Verification token",
    also: &[],
};

/// The stores, in the order they are listed to sellers.
pub static STORES: &[StoreKeys] = &[PAYHIP, XSOLLA, STRIPE, LEMONSQUEEZY, GUMROAD, KOFI];

/// The store called `name`.
pub fn find(name: &str) -> Option<&'static StoreKeys> {
    STORES.iter().find(|s| s.name == name)
}

/// The store whose section in config.json is `section`.
pub fn by_section(section: &str) -> Option<&'static StoreKeys> {
    STORES.iter().find(|s| s.section == section)
}

/// The stores whose section and secret the table reads (see [`StoreKeys::is_tabled`]).
pub(super) fn tabled() -> impl Iterator<Item = &'static StoreKeys> {
    STORES.iter().filter(|s| s.is_tabled())
}
