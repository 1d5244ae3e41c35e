//! `config.json` and the environment, one job per file:
//!
//! - [`schema`]: the file's shape and its defaults (what a missing key means);
//! - [`values`]: the value formats serde has no word for (hex colors, Discord ids as strings);
//! - [`load`]: reading a file, each problem named by its JSON path and said in plain words
//!   (`words`), with keys the bot does not read found and matched to the nearest it does (`keys`);
//! - [`validate`]: relations and formats serde cannot check, and warnings;
//! - [`env`]: secrets, environment overrides, and the [`Settings`] resolved from both;
//! - [`edit`]: `/config set`, one key changed with the rest of the file kept;
//! - [`table`]: every store's section, default path and secret variable, read by name (`stores`).
//!
//! Secrets never live in [`Config`] itself; see [`Secrets`]. What needs the providers or the
//! running app lives above: `check` (what `check-config` reports beyond the file) and `reload`
//! (changes while the bot runs, and the guard `/config set` shares with hand edits).

pub mod digests;
pub mod edit;
pub mod env;
mod keys;
pub mod listed;
pub mod load;
pub mod roles;
pub mod routing;
pub mod schema;
mod stores;
pub mod table;
pub mod validate;
pub mod values;
mod words;

pub use edit::{edit, write_atomically, EDITABLE_KEYS};
pub use env::{redact_url, store_keys, Environment, Secret, Secrets, Settings};
pub use listed::ListedStore;
pub use load::{ConfigError, Problem};
pub use roles::{ProductRoles, RolesConfig, SubscriptionRoles};
pub use routing::{ProductRoute, Routes, Target};
pub use schema::{
    Config, DatabaseConfig, Delivery, DiscordConfig, EmbedColors, EventTypes, Notification,
    Notifications, Privacy, ProviderConfig, WebhookConfig, DEFAULT_DATABASE_URL,
    XSOLLA_DEFAULT_PATH,
};
pub use stores::{StoreSecrets, StoreSections};
pub use table::StoreKeys;
pub use validate::is_supported_database_url;
pub use values::Color;
