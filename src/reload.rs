//! Changes to config.json while the bot runs, hand edits picked up without a restart and
//! `/config set` alike, refused when they would silently stop every notice: a half-saved or
//! emptied file, or one switch too many, must not cost a seller their announcements.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::edit::SetError;
use crate::config::{Config, ConfigError};
use crate::domain::NoticeKind;
use crate::providers::Provider;
use crate::state::AppState;

/// How often the file's modification time is looked at.
const POLL: Duration = Duration::from_secs(2);

/// One stream of notices: a provider that can verify its webhooks (its secret is set) and a
/// notice kind that is switched on and has at least one destination (a channel or a webhook URL).
pub type Stream = (&'static str, &'static str);

/// Every stream `config` announces.
pub fn announced(config: &Config, providers: &[Arc<dyn Provider>]) -> BTreeSet<Stream> {
    let mut out = BTreeSet::new();
    for p in providers
        .iter()
        .filter(|p| p.missing_secret_hint().is_none())
    {
        for kind in NoticeKind::ALL {
            let settings = p.settings(config);
            let on = settings.event_types.enabled(kind);
            let somewhere = match settings.notify.for_kind(kind) {
                Some(own) => !own.is_empty(),
                None => {
                    config.discord_config.channel_for(kind).is_some()
                        || !config.notifications.for_kind(kind).webhook_urls.is_empty()
                }
            };
            if on && somewhere {
                out.insert((p.name(), kind.config_key()));
            }
        }
    }
    out
}

/// Why a reload from `running` to `next` must be refused: something was announced, and none of
/// it still would be. Moving a stream to another channel, or turning some streams off while
/// others stay, is a seller's choice and goes through.
pub fn refusal(running: &Config, next: &Config, providers: &[Arc<dyn Provider>]) -> Option<String> {
    let before = announced(running, providers);
    let after = announced(next, providers);
    if before.is_empty() || !before.is_disjoint(&after) {
        return None;
    }
    let list = before
        .iter()
        .map(|(p, k)| format!("{p} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "it would stop every notice announced now ({list}): no channel id or webhook URL, or the event type switched off"
    ))
}

/// Why a changed file was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    #[error("{0}")]
    WouldSilence(String),
}

/// The config to switch to after `path` changed, or why the running one stays.
pub fn check(
    path: &Path,
    running: &Config,
    providers: &[Arc<dyn Provider>],
) -> Result<Config, ReloadError> {
    let next = Config::load(path)?;
    match refusal(running, &next, providers) {
        Some(reason) => Err(ReloadError::WouldSilence(reason)),
        None => Ok(next),
    }
}

/// `/config set`: changes `key` in the file at `path` and in the running bot at once, unless the
/// new file would stop every notice announced now; then nothing changes and the reason is the
/// caller's to read.
pub fn set_key(state: &AppState, path: &Path, key: &str, value: &str) -> Result<(), SetError> {
    crate::config::edit::set(
        path,
        key,
        value,
        |next| {
            refusal(&state.config(), next, state.providers()).map(|why| {
                format!("not changed: {why}. To stop every notice on purpose, edit config.json and restart the bot")
            })
        },
        |next| state.replace_config(next),
    )
}

/// What of the `stores` list is read at start-up only: each store's name, provider, path and
/// secret variable.
fn endpoints(config: &Config) -> Vec<(String, String, String, Option<String>)> {
    config
        .listed
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                s.provider.clone(),
                s.route(config),
                s.secret_var().map(str::to_owned),
            )
        })
        .collect()
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Polls `path` and applies each change that passes [`check`]. Webhook paths, the port and the
/// HTTP limits are read at start-up only. The file's time is taken now, not when the task first
/// runs, so that an edit made right after start-up is not mistaken for the loaded version.
pub fn watch(
    state: AppState,
    path: PathBuf,
    stop: CancellationToken,
) -> impl std::future::Future<Output = ()> {
    let seen = modified(&path);
    watch_from(state, path, stop, seen)
}

async fn watch_from(
    state: AppState,
    path: PathBuf,
    stop: CancellationToken,
    mut seen: Option<std::time::SystemTime>,
) {
    let mut tick = tokio::time::interval(POLL);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        let now = modified(&path);
        if now == seen {
            continue;
        }
        seen = now;
        match check(&path, &state.config(), state.providers()) {
            Ok(config) => {
                for key in config.unknown_keys() {
                    tracing::warn!("{key} (ignored)");
                }
                if endpoints(&state.config()) != endpoints(&config) {
                    tracing::warn!("the stores list changed: a store's name, provider, path or secret variable takes effect at the next restart (its switches and routes already have)");
                }
                state.replace_config(config);
                tracing::info!(path = %path.display(), "config reloaded");
            }
            Err(e) => tracing::error!(
                path = %path.display(),
                "config.json changed but was not applied; the running config is kept: {e}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, Secrets};

    fn providers() -> Vec<Arc<dyn Provider>> {
        crate::providers::registry(&Secrets {
            payhip_api_key: Some(Secret::new("k")),
            ..Secrets::default()
        })
    }

    fn config(json: &str) -> Config {
        Config::from_json(json).expect("valid")
    }

    const SALES: &str = r#"{ "discordConfig": { "salesChannelId": "42" } }"#;

    #[test]
    fn an_empty_file_over_a_working_one_is_refused() {
        let reason = refusal(&config(SALES), &config("{}"), &providers()).expect("refused");
        assert!(reason.contains("payhip newSale"), "{reason}");
    }

    #[test]
    fn switching_off_every_announced_type_is_refused() {
        let off = r#"{ "discordConfig": { "salesChannelId": "42" },
                       "payhipConfig": { "eventTypes": { "newSale": false } } }"#;
        assert!(refusal(&config(SALES), &config(off), &providers()).is_some());
    }

    #[test]
    fn changes_that_keep_something_announced_go_through() {
        let p = providers();
        let moved = r#"{ "discordConfig": { "salesChannelId": "43" } }"#;
        assert_eq!(refusal(&config(SALES), &config(moved), &p), None);
        let hook = r#"{ "notifications": { "newSale": { "webhookUrls": ["https://discord.com/api/webhooks/1/t"] } } }"#;
        assert_eq!(refusal(&config(SALES), &config(hook), &p), None);
        let two = r#"{ "discordConfig": { "salesChannelId": "42", "refundsChannelId": "43" } }"#;
        let refunds_only = r#"{ "discordConfig": { "salesChannelId": "42" },
                                "payhipConfig": { "eventTypes": { "refund": false } } }"#;
        assert_eq!(refusal(&config(two), &config(refunds_only), &p), None);
    }

    #[test]
    fn a_stores_own_channel_counts_as_announced() {
        let own = r#"{ "payhipConfig": { "notify": { "newSale": [ { "channelId": "7" } ] } } }"#;
        let reason = refusal(&config(own), &config("{}"), &providers()).expect("refused");
        assert!(reason.contains("payhip newSale"), "{reason}");
        let silenced = r#"{ "discordConfig": { "salesChannelId": "42" },
                            "payhipConfig": { "notify": { "newSale": [] } } }"#;
        assert!(refusal(&config(SALES), &config(silenced), &providers()).is_some());
    }

    #[test]
    fn nothing_announced_before_means_nothing_to_protect() {
        assert_eq!(refusal(&config("{}"), &config("{}"), &providers()), None);
        assert_eq!(
            refusal(
                &config(SALES),
                &config("{}"),
                &crate::providers::registry(&Secrets::default())
            ),
            None,
            "without a provider secret nothing verified is ever announced"
        );
    }

    #[test]
    fn a_provider_that_cannot_verify_does_not_count() {
        // Xsolla has no secret here: its sales staying "on" does not keep payhip's alive.
        let xsolla_only = r#"{ "discordConfig": { "salesChannelId": "42" },
                               "payhipConfig": { "eventTypes": { "newSale": false } } }"#;
        assert!(refusal(&config(SALES), &config(xsolla_only), &providers()).is_some());
    }
}
