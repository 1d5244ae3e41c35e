//! `simulate`: a signed sample posted to the running bot, and where its notice will go.

use std::process::ExitCode;

use crate::config::Settings;

pub(super) async fn simulate(
    settings: &Settings,
    event: &str,
    url: Option<String>,
) -> anyhow::Result<ExitCode> {
    let Some(key) = &settings.secrets.payhip_api_key else {
        anyhow::bail!("PAYHIP_API_KEY is not set: the bot cannot accept webhooks without it, simulated or not");
    };
    let Some(body) = crate::providers::payhip::sample(event, key, chrono::Utc::now()) else {
        anyhow::bail!("unknown event type {event}");
    };
    let url = match url {
        Some(u) => u,
        None => {
            let wc = &settings.config.webhook_config;
            if wc.webhook_port == 0 {
                anyhow::bail!("webhookConfig.webhookPort is 0 (any free port): pass --url with the bot's address");
            }
            let host = if wc.bind_address.is_unspecified() {
                std::net::IpAddr::from([127, 0, 0, 1])
            } else {
                wc.bind_address
            };
            format!(
                "http://{}{}",
                std::net::SocketAddr::new(host, wc.webhook_port),
                wc.webhook_path
            )
        }
    };
    out!("POST {url} ({event}, marked as a test)");
    let response = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the bot did not answer at {url}: is it running? ({})",
                e.without_url()
            )
        })?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    out!("{status} {text}");
    if status.is_success() {
        explain_destinations(settings, key, &body);
    }
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A 200 alone says nothing visible happened: say where the notice went, or why nowhere, so a
/// first run with empty channel ids does not look like a silent success.
fn explain_destinations(
    settings: &Settings,
    key: &crate::config::Secret,
    body: &serde_json::Value,
) {
    use crate::providers::Provider as _;
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let payhip = crate::providers::payhip::Payhip::new(Some(key));
    let Ok(event) = payhip.parse(&Default::default(), &bytes, chrono::Utc::now()) else {
        return;
    };
    let config = &settings.config;
    let destinations: Vec<String> = crate::outbox::route(config, &config.payhip_config, &event)
        .iter()
        .filter_map(|d| crate::notice::destination::Destination::parse(d))
        .map(|d| d.to_string())
        .collect();
    if destinations.is_empty() {
        let kind = event.kind.notice_kind().map_or("", |k| k.config_key());
        out!(
            "Its notice goes nowhere: no channel id and no webhook URL for {kind} notices (or that type is switched off). \
             Put a channel id in discordConfig (see docs/configuration.md); the running bot picks up the change within seconds."
        );
    } else if settings.secrets.discord_token.is_none() {
        out!(
            "Its notice goes to {}: without DISCORD_TOKEN the running bot prints channel notices in its own terminal (preview mode).",
            destinations.join(", ")
        );
    } else {
        out!(
            "Its notice goes to {}: look there in a second or two.",
            destinations.join(", ")
        );
    }
}
