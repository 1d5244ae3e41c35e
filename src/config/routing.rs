//! Where one store's notices go when they should not go where every store's go: per kind
//! (`notify`) and per product (`products`), each a list of channels or webhook URLs, any of them
//! marked `public` to get the notice without its amount or its buyer.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::load::Problem;
use super::values::opt_snowflake;
use super::ProviderConfig;
use crate::domain::{DiscordWebhook, NoticeKind};
use crate::notice::destination::Destination;

/// The destinations of each kind. A kind left out goes where it would go without this; an
/// empty list announces it nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Routes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_sale: Option<Vec<Target>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<Vec<Target>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Vec<Target>>,
}

impl Routes {
    pub fn for_kind(&self, kind: NoticeKind) -> Option<&[Target]> {
        match kind {
            NoticeKind::Sale => self.new_sale.as_deref(),
            NoticeKind::Refund => self.refund.as_deref(),
            NoticeKind::Subscription => self.subscription.as_deref(),
        }
    }

    pub fn is_empty(&self) -> bool {
        NoticeKind::ALL.iter().all(|k| self.for_kind(*k).is_none())
    }
}

/// The notices of one product, found by its id, its short key or its name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ProductRoute {
    pub product: String,
    pub notify: Routes,
}

/// One destination: a channel the bot posts in or a webhook URL, and whether it is a public
/// feed (the product only: never the amount or the buyer).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Target {
    #[serde(with = "opt_snowflake", skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<u64>,
    /// A secret, as in `notifications`: `Debug` hides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("channel_id", &self.channel_id)
            .field("webhook_url", &self.webhook_url.as_ref().map(|_| "***"))
            .field("public", &self.public)
            .finish()
    }
}

impl Target {
    /// Where it points, if it is well formed (validation makes sure it is).
    pub fn destination(&self) -> Option<Destination> {
        match (self.channel_id, &self.webhook_url) {
            (Some(id), None) => Some(Destination::Channel(id)),
            (None, Some(url)) => DiscordWebhook::parse(url).map(Destination::Webhook),
            _ => None,
        }
    }

    /// The outbox's stored form (see [`crate::notice::destination::stored`]).
    pub fn stored(&self) -> Option<String> {
        self.destination()
            .map(|d| crate::notice::destination::stored(&d, self.public))
    }
}

/// Every destination of a section that is not one channel id or one webhook URL.
pub(super) fn problems(section: &str, settings: &ProviderConfig) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut check = |path: String, routes: &Routes| {
        for kind in NoticeKind::ALL {
            for (i, target) in routes.for_kind(kind).unwrap_or_default().iter().enumerate() {
                if target.destination().is_none() {
                    out.push(Problem {
                        path: format!("{path}.{}[{i}]", kind.config_key()),
                        message: "expected either \"channelId\" (a channel id) or \"webhookUrl\" (https://discord.com/api/webhooks/<id>/<token>)".into(),
                    });
                }
            }
        }
    };
    check(format!("{section}.notify"), &settings.notify);
    for (i, product) in settings.products.iter().enumerate() {
        check(format!("{section}.products[{i}].notify"), &product.notify);
    }
    for (i, product) in settings.products.iter().enumerate() {
        if product.product.trim().is_empty() {
            out.push(Problem {
                path: format!("{section}.products[{i}].product"),
                message: "expected the product's id, key or name".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_channel_or_a_webhook_and_hides_its_token() {
        let t: Target = serde_json::from_str(r#"{ "channelId": "42", "public": true }"#).unwrap();
        assert_eq!(t.stored().as_deref(), Some("public:channel:42"));
        let t: Target = serde_json::from_str(
            r#"{ "webhookUrl": "https://discord.com/api/webhooks/5/tok-secret" }"#,
        )
        .unwrap();
        assert!(t.stored().unwrap().starts_with("webhook:"));
        assert!(!format!("{t:?}").contains("tok-secret"));
        let both: Target = serde_json::from_str(
            r#"{ "channelId": "1", "webhookUrl": "https://discord.com/api/webhooks/5/t" }"#,
        )
        .unwrap();
        assert_eq!(both.stored(), None);
        assert!(serde_json::from_str::<Target>(r#"{ "channel": "1" }"#).is_err());
    }
}
