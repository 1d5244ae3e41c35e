//! Notices waiting for Discord. Intake writes one row per destination in the same transaction as
//! the event; the worker delivers them until Discord has them.

use crate::config::{Config, ProviderConfig};
use crate::domain::{DiscordWebhook, Event};
use crate::notice::destination::Destination;

/// The outbox rows an event gets: its notices, and a role decision when it may change a buyer's
/// roles (see [`crate::roles`]).
pub fn route(config: &Config, provider: &ProviderConfig, event: &Event) -> Vec<String> {
    let mut out = notice_routes(config, provider, event);
    if crate::roles::routes(&config.roles, event) {
        out.push(crate::roles::EVENT_DESTINATION.to_owned());
    }
    out
}

/// The destinations an event's notice goes to under the current config: none for unannounced
/// kinds, switched-off types and (if so configured) tests.
fn notice_routes(config: &Config, provider: &ProviderConfig, event: &Event) -> Vec<String> {
    let Some(kind) = event.kind.notice_kind() else {
        return Vec::new();
    };
    let unsigned_test = event.test && !event.test_signed && !provider.announce_tests;
    let quiet_update = event.kind == crate::domain::EventKind::SubscriptionUpdated
        && !provider.announce_subscription_updates;
    if !provider.event_types.enabled(kind) || unsigned_test || quiet_update {
        return Vec::new();
    }
    config
        .discord_config
        .channel_for(kind)
        .map(Destination::Channel)
        .into_iter()
        .chain(
            config
                .notifications
                .for_kind(kind)
                .webhook_urls
                .iter()
                .filter_map(|u| DiscordWebhook::parse(u))
                .map(Destination::Webhook),
        )
        .map(|d| d.to_stored())
        // A URL listed twice is one destination: the notice goes there once.
        .fold(Vec::new(), |mut out, d| {
            if !out.contains(&d) {
                out.push(d);
            }
            out
        })
}

mod deliver;
mod hint;
mod pack;
pub mod policy;
mod roles;
pub mod worker;

/// Logs, once at start-up, every notice family that will not reach Discord, so a seller who
/// forgot a channel id finds out before the first sale.
pub fn log_routing(config: &Config, providers: &[std::sync::Arc<dyn crate::providers::Provider>]) {
    for provider in providers {
        for kind in crate::domain::NoticeKind::ALL {
            let settings = provider.settings(config);
            let channel = config.discord_config.channel_for(kind);
            let hooks = config.notifications.for_kind(kind).webhook_urls.len();
            if !settings.event_types.enabled(kind) {
                tracing::info!(
                    provider = provider.name(),
                    "{} notices are switched off (stored and counted, not announced)",
                    kind.config_key()
                );
            } else if channel.is_none() && hooks == 0 {
                tracing::warn!(
                    provider = provider.name(),
                    "{} notices are not announced: no channel id and no webhook URL is configured",
                    kind.config_key()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Customer, Detail, EventKind};

    #[test]
    fn a_webhook_url_listed_twice_gets_one_copy() {
        let mut config = Config::default();
        config.discord_config.sales_channel_id = Some(7);
        let url = "https://discord.com/api/webhooks/1/tok".to_owned();
        config.notifications.new_sale.webhook_urls = vec![url.clone(), url];
        let event = Event {
            provider: "payhip".into(),
            event_type: "paid".into(),
            kind: EventKind::Sale,
            idempotency_key: "k".into(),
            external_id: "1".into(),
            occurred_at: chrono::Utc::now(),
            test: false,
            test_signed: false,
            customer: Customer::default(),
            url: None,
            comment: None,
            detail: Detail::Other,
        };
        let routes = route(&config, &config.payhip_config, &event);
        assert_eq!(routes.len(), 2, "{routes:?}");
    }
}
