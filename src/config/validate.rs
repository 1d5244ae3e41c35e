//! Checks serde cannot express: relations between values and their formats, and what loads but
//! deserves the seller's attention.

use super::load::Problem;
use super::schema::{Config, ProviderConfig, RESERVED_PATHS, XSOLLA_DEFAULT_PATH};
use crate::domain::NoticeKind;

impl Config {
    /// Checks that serde cannot express: relations and formats of values.
    pub fn validate(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut bad = |path: &str, message: String| {
            problems.push(Problem {
                path: path.into(),
                message,
            })
        };
        let default_xsolla_path = XSOLLA_DEFAULT_PATH.to_owned();
        let mut seen: Vec<&str> = Vec::new();
        let store_routes = self.stores.routes();
        let store_routes = store_routes.iter().map(|(p, r)| (p.as_str(), Some(r)));
        // A section a listed store stands in for has no endpoint of its own.
        let replaced = |path: &str| {
            super::table::STORES.iter().any(|k| {
                let key = match k.name {
                    "payhip" => "webhookConfig.webhookPath".to_owned(),
                    _ => format!("{}.webhookPath", k.section),
                };
                key == path && self.section_replaced(k.name)
            })
        };
        let listed: Vec<(String, String)> = self
            .listed
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("stores[{i}].webhookPath"), s.route(self)))
            .collect();
        let listed = listed.iter().map(|(p, r)| (p.as_str(), Some(r)));
        for (path, route) in [
            (
                "webhookConfig.webhookPath",
                Some(&self.webhook_config.webhook_path),
            ),
            (
                "xsollaConfig.webhookPath",
                Some(
                    self.xsolla_config
                        .webhook_path
                        .as_ref()
                        .unwrap_or(&default_xsolla_path),
                ),
            ),
        ]
        .into_iter()
        .chain(store_routes)
        .filter(|(path, _)| !replaced(path))
        .chain(listed)
        {
            let Some(route) = route else { continue };
            let well_formed = route.starts_with('/')
                && route.len() > 1
                && route
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
            if !well_formed {
                bad(
                    path,
                    format!("expected a URL path of letters, digits, / - _ . ~ like \"/webhook/payhip\", found {route:?}"),
                );
            } else if RESERVED_PATHS.contains(&route.as_str()) || seen.contains(&route.as_str()) {
                bad(
                    path,
                    format!("{route:?} is already used by another endpoint"),
                );
            }
            seen.push(route);
        }
        if let Some(base) = &self.discord_config.api_base_url {
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                bad(
                    "discordConfig.apiBaseUrl",
                    format!(
                        "expected an http(s) URL like \"http://127.0.0.1:8080\", found {base:?}"
                    ),
                );
            }
        }
        let mut routing = Vec::new();
        let listed: Vec<(String, &ProviderConfig)> = self
            .listed
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("stores[{i}]"), &s.settings))
            .collect();
        let sections: Vec<(String, &ProviderConfig)> = [
            ("payhipConfig", &self.payhip_config),
            ("xsollaConfig", &self.xsolla_config),
        ]
        .into_iter()
        .chain(self.stores.all())
        .map(|(p, s)| (p.to_owned(), s))
        .chain(listed)
        .collect();
        for (path, section) in &sections {
            let path = path.as_str();
            routing.extend(super::routing::problems(path, section));
            if let Some(url) = &section.forward_url {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    bad(
                        &format!("{path}.forwardUrl"),
                        format!("expected an http(s) URL like \"https://game.example.com/xsolla\", found {url:?}"),
                    );
                }
            }
            if let Some(ms) = section.forward_timeout_ms {
                if !(100..=60_000).contains(&ms) {
                    bad(
                        &format!("{path}.forwardTimeoutMs"),
                        format!("expected 100 to 60000 milliseconds, found {ms}"),
                    );
                }
            }
        }
        if self.discord_config.alert_after_silent_minutes == Some(0) {
            bad(
                "discordConfig.alertAfterSilentMinutes",
                "expected a number of minutes of at least 1, or no key for no silence alert".into(),
            );
        }
        if let Some(tz) = &self.discord_config.timezone {
            if tz.parse::<chrono_tz::Tz>().is_err() {
                bad(
                    "discordConfig.timezone",
                    format!("expected an IANA time zone like \"Europe/Paris\", found {tz:?}"),
                );
            }
        }
        if let Some(url) = &self.database_config.url {
            if !is_supported_database_url(url) {
                bad(
                    "databaseConfig.url",
                    "expected a URL starting with sqlite:// or postgres://".into(),
                );
            }
        }
        for kind in NoticeKind::ALL {
            for (i, url) in self
                .notifications
                .for_kind(kind)
                .webhook_urls
                .iter()
                .enumerate()
            {
                if crate::domain::DiscordWebhook::parse(url).is_none() {
                    bad(
                        &format!("notifications.{}.webhookUrls[{i}]", kind.config_key()),
                        "expected a Discord webhook URL like https://discord.com/api/webhooks/<id>/<token>".into(),
                    );
                }
            }
        }
        let d = &self.delivery;
        if d.max_attempts == 0 {
            bad("delivery.maxAttempts", "expected at least 1".into());
        }
        if d.initial_backoff_ms == 0 || d.initial_backoff_ms > d.max_backoff_ms {
            bad(
                "delivery.initialBackoffMs",
                "expected a value above 0 and not above delivery.maxBackoffMs".into(),
            );
        }
        if d.lease_seconds == 0 {
            bad("delivery.leaseSeconds", "expected at least 1".into());
        }
        let w = &self.webhook_config;
        for (path, value, max) in [
            (
                "webhookConfig.maxConnections",
                w.max_connections as u64,
                1_000_000,
            ),
            (
                "webhookConfig.headerTimeoutSeconds",
                w.header_timeout_seconds,
                3_600,
            ),
            (
                "webhookConfig.bodyTimeoutSeconds",
                w.body_timeout_seconds,
                3_600,
            ),
            (
                "webhookConfig.idleTimeoutSeconds",
                w.idle_timeout_seconds,
                3_600,
            ),
        ] {
            if !(1..=max).contains(&value) {
                bad(path, format!("expected a whole number from 1 to {max}"));
            }
        }
        problems.extend(super::roles::problems(self));
        problems.extend(routing);
        problems.extend(super::listed::problems(self));
        problems.extend(super::digests::problems(self));
        problems
    }

    /// Things that load but deserve the seller's attention.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for kind in NoticeKind::ALL {
            if let Some(template) = &self.notifications.for_kind(kind).message {
                for name in crate::notice::template::unknown_placeholders(template) {
                    out.push(format!(
                        "notifications.{}.message: unknown placeholder {name} is left as written",
                        kind.config_key()
                    ));
                }
            }
        }
        if self.database_config.max_sales.is_some() {
            out.push(
                "databaseConfig.maxSales is ignored: every event is kept so stats stay correct"
                    .into(),
            );
        }
        let url = self.webhook_config.webhook_url.trim();
        if !url.is_empty() && self.webhook_config.public_base().is_none() {
            out.push(format!(
                "webhookConfig.webhookURL: expected the address stores reach the bot at, like \"https://sales.example.com\", found {url:?}; no public webhook URL can be shown"
            ));
        }
        let dc = &self.discord_config;
        if dc.alert_after_silent_minutes.is_some() && dc.alerts_channel_id.is_none() {
            out.push(
                "discordConfig.alertAfterSilentMinutes is set but discordConfig.alertsChannelId is not: alerts are only logged"
                    .into(),
            );
        }
        out.extend(super::listed::warnings(self));
        if self.payhip_config.webhook_path.is_some() {
            out.push(
                "payhipConfig.webhookPath is ignored: the Payhip endpoint's path is webhookConfig.webhookPath"
                    .into(),
            );
        }
        out
    }
}

pub fn is_supported_database_url(url: &str) -> bool {
    url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn base(url: &str) -> Option<String> {
        let json = format!(r#"{{ "webhookConfig": {{ "webhookURL": {url:?} }} }}"#);
        let config = Config::from_json(&json).expect("valid");
        config.webhook_config.public_base().map(str::to_owned)
    }

    #[test]
    fn the_earlier_bots_full_webhook_url_gives_the_base() {
        let b = Some("https://sales.example.com".to_owned());
        assert_eq!(base("https://sales.example.com/webhook/payhip"), b);
        assert_eq!(base("https://sales.example.com/webhook/payhip/"), b);
        assert_eq!(base("https://sales.example.com/"), b);
        assert_eq!(
            base("https://example.org/shop"),
            Some("https://example.org/shop".to_owned()),
            "a prefix of the seller's own is kept"
        );
        assert_eq!(base(""), None);
        assert_eq!(base("sales.example.com"), None);
    }

    #[test]
    fn a_webhook_url_that_is_not_an_address_is_warned_about() {
        let c = Config::from_json(r#"{ "webhookConfig": { "webhookURL": "sales.example.com" } }"#)
            .expect("valid");
        assert!(c.warnings()[0].starts_with("webhookConfig.webhookURL: expected the address"));
    }
}
