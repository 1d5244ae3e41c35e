//! Notices waiting for Discord. Intake writes one row per destination in the same transaction as
//! the event; the worker delivers them until Discord has them.

use crate::config::{Config, ProviderConfig, Target};
use crate::domain::{Detail, DiscordWebhook, Event, Refund, Sale};
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
    let own = own_routes(provider, event, kind);
    let shared = || {
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
            .collect::<Vec<_>>()
    };
    own.map_or_else(shared, |targets| {
        targets.iter().filter_map(|t| t.stored()).collect()
    })
    .into_iter()
    // A URL listed twice is one destination: the notice goes there once.
    .fold(Vec::new(), |mut out, d| {
        if !out.contains(&d) {
            out.push(d);
        }
        out
    })
}

/// The store's own destinations for `kind`, most specific first: those of the event's products
/// that name the kind (all of them, for an order of several), else the store's `notify`. `None`:
/// the channels and URLs every store shares.
fn own_routes<'a>(
    provider: &'a ProviderConfig,
    event: &Event,
    kind: crate::domain::NoticeKind,
) -> Option<Vec<&'a Target>> {
    let by_product: Vec<&[Target]> = provider
        .products
        .iter()
        .filter(|r| names_product(event, &r.product))
        .filter_map(|r| r.notify.for_kind(kind))
        .collect();
    if !by_product.is_empty() {
        return Some(by_product.into_iter().flatten().collect());
    }
    provider
        .notify
        .for_kind(kind)
        .map(|targets| targets.iter().collect())
}

/// Whether `product` (an id, a store's short key or a name, as a seller would write it) is one
/// of the event's products.
fn names_product(event: &Event, product: &str) -> bool {
    let product = product.trim();
    let named = |name: &str| name.trim().eq_ignore_ascii_case(product);
    match &event.detail {
        Detail::Sale(Sale { items, .. }) | Detail::Refund(Refund { items, .. }) => {
            items.iter().any(|i| {
                i.product_id.as_deref() == Some(product)
                    || i.product_key.as_deref() == Some(product)
                    || named(&i.name)
            })
        }
        Detail::Subscription(s) => {
            s.product.as_deref().is_some_and(named) || s.plan.as_deref().is_some_and(named)
        }
        _ => false,
    }
}

mod deliver;
mod hint;
mod lost;
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
            let hooks = match settings.notify.for_kind(kind) {
                Some(own) => own.len(),
                None => config.notifications.for_kind(kind).webhook_urls.len(),
            };
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
            detail: Detail::Other,
            ..sale_of("x")
        };
        let routes = route(&config, &config.payhip_config, &event);
        assert_eq!(routes.len(), 2, "{routes:?}");
    }

    fn sale_of(product: &str) -> Event {
        Event {
            provider: "eu".into(),
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
            detail: Detail::Sale(crate::domain::Sale {
                items: vec![crate::domain::Item {
                    product_id: Some("P1".into()),
                    product_key: Some("AbC12".into()),
                    name: product.into(),
                    quantity: 1,
                    ..Default::default()
                }],
                ..Default::default()
            }),
        }
    }

    #[test]
    fn a_product_route_wins_over_the_stores_which_wins_over_the_shared_channel() {
        let config = Config::from_json(
            r#"{ "discordConfig": { "salesChannelId": "1" },
                 "stores": [ { "name": "eu", "provider": "payhip", "secretEnv": "K",
                   "notify": { "newSale": [ { "channelId": "2" }, { "channelId": "3", "public": true } ] },
                   "products": [ { "product": "AbC12", "notify": { "newSale": [ { "channelId": "4" } ] } },
                                 { "product": "silent course", "notify": { "newSale": [] } },
                                 { "product": "Other", "notify": { "refund": [ { "channelId": "5" } ] } } ] } ] }"#,
        )
        .unwrap();
        let eu = &config.listed_store("eu").unwrap().settings;
        assert_eq!(route(&config, eu, &sale_of("Brushes")), ["channel:4"]);
        assert!(route(&config, eu, &sale_of("Silent Course")).contains(&"channel:4".to_owned()));
        let mut plain = sale_of("Other");
        if let Detail::Sale(s) = &mut plain.detail {
            s.items[0].product_id = None;
            s.items[0].product_key = None;
        }
        assert_eq!(
            route(&config, eu, &plain),
            ["channel:2", "public:channel:3"]
        );
        assert_eq!(
            route(&config, &config.payhip_config, &plain),
            ["channel:1"],
            "the single-store section keeps the shared channel"
        );
    }
}
