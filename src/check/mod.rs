//! `check-config`: everything between this config and a posted notice, each problem said once.
//! A file that loads is not enough: a misspelt key, no store secret, no channel for a notice
//! that is switched on, or a database that cannot be reached all mean no sale is ever announced.

pub mod database;
mod digests;
pub mod public_url;
mod roles;

use std::sync::Arc;

use crate::config::{store_keys, Config, DiscordConfig, EventTypes, Problem, Settings};
use crate::domain::NoticeKind;
use crate::providers::{self, Provider};

/// What `check-config` prints for a file that loads.
#[derive(Debug, Default)]
pub struct Report {
    /// Each one keeps a sale from being announced, or the bot from starting: exit non-zero.
    pub problems: Vec<Problem>,
    /// Worth knowing; nothing fails because of them.
    pub warnings: Vec<String>,
    /// How things stand: secrets set or not, the database, where each notice goes.
    pub summary: Vec<String>,
}

/// Checks `settings` and the database it names.
pub async fn check(settings: &Settings) -> Report {
    let config = &settings.config;
    let providers = providers::stores(&settings.config, &settings.secrets);
    let mut report = Report {
        problems: config.unknown_keys().to_vec(),
        warnings: config.warnings(),
        summary: Vec::new(),
    };
    report.problems.extend(setup_problems(config, &providers));
    if let Some(base) = &settings.discord_api_base {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            report.problems.push(Problem {
                path: "DISCORD_API_BASE".into(),
                message: format!(
                    "expected an http(s) URL like \"http://127.0.0.1:8080\", found {base:?}"
                ),
            });
        }
    }

    let set = |yes: bool| if yes { "set" } else { "not set" };
    let token = &settings.secrets.discord_token;
    report.summary.push(match token {
        Some(_) => "DISCORD_TOKEN: set".to_owned(),
        None => {
            "DISCORD_TOKEN: not set (the bot prints channel notices in its terminal instead of posting them)".to_owned()
        }
    });
    for p in &providers {
        if let Some((i, listed)) = config
            .listed
            .iter()
            .enumerate()
            .find(|(_, s)| s.name == p.name())
        {
            let var = listed.secret_var().unwrap_or_default();
            let is_set = p.missing_secret_hint().is_none();
            report
                .summary
                .push(format!("{var} (store {}): {}", listed.name, set(is_set)));
            if !is_set {
                let source = listed.keys().map_or("", |k| k.secret_source);
                report.problems.push(Problem {
                    path: format!("stores[{i}].secretEnv"),
                    message: format!(
                        "{var} is not set, so store {:?} refuses every webhook (503): set it in the environment or in .env beside config.json ({source})",
                        listed.name
                    ),
                });
            }
            continue;
        }
        let secret = crate::config::table::find(p.name()).map(|k| k.secret);
        if let Some(secret) = secret {
            report.summary.push(format!(
                "{secret}: {}",
                set(p.missing_secret_hint().is_none())
            ));
        }
    }
    match database::probe(&settings.database_url).await {
        Ok(status) => report.summary.push(format!("database: {status}")),
        Err(problem) => report.problems.push(Problem {
            path: "database".into(),
            message: problem,
        }),
    }
    for kind in NoticeKind::ALL {
        report.summary.push(format!(
            "{} notices: {}",
            kind.config_key(),
            route(config, kind)
        ));
    }
    report
        .summary
        .push(match config.discord_config.alerts_channel_id {
            Some(id) => format!("alerts: channel {id}"),
            None => {
                "alerts: logged only (set discordConfig.alertsChannelId to have them posted)".into()
            }
        });
    for p in &providers {
        let settings = p.settings(config);
        for kind in NoticeKind::ALL {
            if let Some(targets) = settings.notify.for_kind(kind) {
                report.summary.push(format!(
                    "{} {} notices: {}",
                    p.name(),
                    kind.config_key(),
                    own_route(targets)
                ));
            }
        }
        if !settings.products.is_empty() {
            report.summary.push(format!(
                "{}: {} product route(s)",
                p.name(),
                settings.products.len()
            ));
        }
    }
    report.summary.extend(public_url::lines(config, &providers));
    roles::add(settings, &mut report);
    digests::add(settings, &mut report);
    report
}

/// The stores that can take webhooks: those whose secret is set. With none set, every store
/// counts, so that the file itself is still checked.
pub(crate) fn stores_in_use(providers: &[Arc<dyn Provider>]) -> Vec<&Arc<dyn Provider>> {
    let set_up: Vec<_> = providers
        .iter()
        .filter(|p| p.missing_secret_hint().is_none())
        .collect();
    if set_up.is_empty() {
        providers.iter().collect()
    } else {
        set_up
    }
}

/// No store that can take webhooks, or a notice switched on with nowhere to go. A store with
/// no secret is simply not set up, unless no store is.
pub fn setup_problems(config: &Config, providers: &[Arc<dyn Provider>]) -> Vec<Problem> {
    let mut out = Vec::new();
    if providers.iter().all(|p| p.missing_secret_hint().is_some()) {
        let keys: Vec<_> = providers
            .iter()
            .filter_map(|p| store_keys(p.name()))
            .collect();
        let names: Vec<&str> = keys.iter().map(|k| k.secret).collect();
        let sources: Vec<&str> = keys.iter().map(|k| k.secret_source).collect();
        out.push(Problem {
            path: names.join(" / "),
            message: format!(
                "not set, so every webhook is refused (503): set the one for your store in the environment or in .env beside config.json ({})",
                sources.join("; ")
            ),
        });
    }
    let any_set_up = providers.iter().any(|p| p.missing_secret_hint().is_none());
    for kind in NoticeKind::ALL {
        let hooks = &config.notifications.for_kind(kind).webhook_urls;
        if config.discord_config.channel_for(kind).is_some() || !hooks.is_empty() {
            continue;
        }
        let on: Vec<String> = stores_in_use(providers)
            .into_iter()
            .filter(|p| p.settings(config).event_types.enabled(kind))
            // A store that routes this kind itself needs no channel of `discordConfig`.
            .filter(|p| p.settings(config).notify.for_kind(kind).is_none())
            .filter_map(|p| {
                if let Some(i) = config.listed.iter().position(|s| s.name == p.name()) {
                    return Some(format!("stores[{i}]"));
                }
                // With no store set up, the two oldest stand for all (as in the secrets line).
                if any_set_up {
                    crate::config::table::find(p.name())
                } else {
                    store_keys(p.name())
                }
                .map(|k| k.section.to_owned())
            })
            .map(|section| format!("{section}.eventTypes.{}", EventTypes::key(kind)))
            .collect();
        if on.is_empty() {
            continue;
        }
        let channel = format!("discordConfig.{}", DiscordConfig::channel_key(kind));
        // A misspelt channel key is the one problem here, already named with its fix.
        let misspelt = config.unknown_keys().iter().any(|p| {
            p.path.starts_with("discordConfig.")
                && p.message
                    .ends_with(&format!(" {}?", DiscordConfig::channel_key(kind)))
        });
        if misspelt {
            continue;
        }
        let (verb, switches) = if on.len() == 1 {
            ("is", "that switch")
        } else {
            ("are", "those switches")
        };
        out.push(Problem {
            message: format!(
                "not set and notifications.{}.webhookUrls is empty, so {} are never announced although {} {verb} on: set a channel id or a webhook URL, or set {switches} to false",
                kind.config_key(),
                noun(kind),
                on.join(" and "),
            ),
            path: channel,
        });
    }
    out
}

fn noun(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Sale => "sales",
        NoticeKind::Refund => "refunds",
        NoticeKind::Subscription => "subscription changes",
    }
}

/// Where a store's own route sends a kind, for the summary (webhook URLs by id only).
fn own_route(targets: &[crate::config::Target]) -> String {
    if targets.is_empty() {
        return "nowhere (an empty list)".to_owned();
    }
    targets
        .iter()
        .map(|t| {
            let to = t
                .destination()
                .map_or_else(|| "?".to_owned(), |d| d.to_string());
            if t.public {
                format!("{to} (public feed)")
            } else {
                to
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where notices of `kind` go, for the summary.
fn route(config: &Config, kind: NoticeKind) -> String {
    let channel = config.discord_config.channel_for(kind);
    let hooks = config.notifications.for_kind(kind).webhook_urls.len();
    match (channel, hooks) {
        (None, 0) => "nowhere (no channel id and no webhook URL)".to_owned(),
        (Some(c), 0) => format!("channel {c}"),
        (None, n) => format!("{n} webhook URL(s)"),
        (Some(c), n) => format!("channel {c} and {n} webhook URL(s)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Secret, Secrets};

    fn registry(payhip: bool, xsolla: bool) -> Vec<Arc<dyn Provider>> {
        providers::registry(&Secrets {
            payhip_api_key: payhip.then(|| Secret::new("k")),
            xsolla_secret_key: xsolla.then(|| Secret::new("s")),
            ..Secrets::default()
        })
    }

    fn said(json: &str, payhip: bool, xsolla: bool) -> Vec<String> {
        let config = Config::from_json(json).expect("valid");
        setup_problems(&config, &registry(payhip, xsolla))
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const ALL_CHANNELS: &str = r#"{ "discordConfig": { "salesChannelId": "1", "refundsChannelId": "2", "subscriptionsChannelId": "3" } }"#;

    #[test]
    fn a_store_without_a_secret_is_not_set_up_unless_none_is() {
        assert_eq!(said(ALL_CHANNELS, true, false), Vec::<String>::new());
        let none = said(ALL_CHANNELS, false, false);
        assert_eq!(none.len(), 1, "{none:?}");
        assert!(
            none[0].starts_with(
                "PAYHIP_API_KEY / XSOLLA_SECRET_KEY: not set, so every webhook is refused"
            ),
            "{none:?}"
        );
    }

    #[test]
    fn a_notice_switched_on_with_nowhere_to_go_is_one_problem() {
        let sales_only = r#"{ "discordConfig": { "salesChannelId": "1" },
                              "payhipConfig": { "eventTypes": { "subscriptions": false } } }"#;
        assert_eq!(
            said(sales_only, true, false),
            ["discordConfig.refundsChannelId: not set and notifications.refund.webhookUrls is empty, so refunds are never announced although payhipConfig.eventTypes.refund is on: set a channel id or a webhook URL, or set that switch to false"]
        );
        // Xsolla is not set up: its switches do not count.
        assert_eq!(
            said(
                r#"{ "discordConfig": { "salesChannelId": "1" },
                     "payhipConfig": { "eventTypes": { "refund": false, "subscriptions": false } } }"#,
                true,
                false
            ),
            Vec::<String>::new()
        );
        let typo = r#"{ "discordConfig": { "salesChanelId": "1", "refundsChannelId": "2", "subscriptionsChannelId": "3" } }"#;
        assert_eq!(
            said(typo, true, false),
            Vec::<String>::new(),
            "the unknown key says it: once"
        );
        let hook = r#"{ "discordConfig": { "salesChannelId": "1", "subscriptionsChannelId": "3" },
                        "notifications": { "refund": { "webhookUrls": ["https://discord.com/api/webhooks/1/t"] } } }"#;
        assert_eq!(said(hook, true, true), Vec::<String>::new());
    }
}
