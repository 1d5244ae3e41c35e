//! What `check-config` says about `digests`: each schedule in the seller's time zone, and that
//! none is posted without a bot token.

use super::Report;
use crate::config::Settings;

pub(super) fn add(settings: &Settings, report: &mut Report) {
    let config = &settings.config;
    if config.digests.is_empty() {
        return;
    }
    let tz = config.discord_config.tz();
    let each: Vec<String> = config
        .digests
        .iter()
        .filter_map(|d| {
            let channel = d.channel_id?;
            Some(format!("{} in channel {channel}", d.describe()))
        })
        .collect();
    report.summary.push(format!(
        "digests: {} ({}, discordConfig.timezone)",
        each.join("; "),
        tz.name()
    ));
    if settings.secrets.discord_token.is_none() {
        report
            .warnings
            .push("digests are set up but DISCORD_TOKEN is not: no digest is posted".to_owned());
    }
}
