//! What `check-config` says about `roles`: where the license API is asked, and each product
//! that cannot be checked by key because its secret key is missing.

use super::Report;
use crate::config::roles::secret_variable;
use crate::config::{Problem, Settings};

pub(super) fn add(settings: &Settings, report: &mut Report) {
    let roles = &settings.config.roles;
    if let Some(base) = &settings.payhip_api_base {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            report.problems.push(Problem {
                path: "PAYHIP_API_BASE".into(),
                message: format!(
                    "expected an http(s) URL like \"http://127.0.0.1:8080\", found {base:?}"
                ),
            });
        }
    }
    if !roles.enabled() {
        return;
    }
    let secrets = &settings.secrets.payhip_product_secrets;
    let mut with_secret = 0;
    for (i, p) in roles.products.iter().enumerate() {
        let variable = secret_variable(&p.product);
        if p.secret_key.is_some() || secrets.contains_key(&variable) {
            with_secret += 1;
        } else {
            report.warnings.push(format!(
                "roles.products[{i}]: no product secret key ({variable} or secretKey), so /claim license_key accepts only keys of sales the bot received; the key is under the product's license settings on Payhip"
            ));
        }
    }
    if roles.regrant_on_rejoin {
        report.warnings.push(
            "roles.regrantOnRejoin asks Discord for the Server Members intent: switch it on in the Developer Portal (Bot > Privileged Gateway Intents), or Discord refuses the bot's connection".to_owned(),
        );
    }
    if settings.secrets.discord_token.is_none() {
        report
            .warnings
            .push("roles are set up but DISCORD_TOKEN is not: no role can be given".to_owned());
    }
    let log = roles.log_channel_id.map_or_else(
        || "no log channel".to_owned(),
        |c| format!("log in channel {c}"),
    );
    report.summary.push(format!(
        "roles: {} product(s) ({with_secret} checkable by license key), {} membership plan(s), {log}, needs Manage Roles and the bot's role above the roles it gives",
        roles.products.len(),
        roles.subscriptions.len(),
    ));
}
