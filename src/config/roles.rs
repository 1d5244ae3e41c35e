//! The `roles` section: which purchases give which Discord roles. Kept apart from the notice
//! settings because it acts on members, not channels, and needs the Manage Roles permission.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::env::Secret;
use super::load::Problem;
use super::values::opt_snowflake;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RolesConfig {
    /// One-off purchases: a product and the roles it gives.
    pub products: Vec<ProductRoles>,
    /// Memberships: a plan (or product) and the roles it gives while it lasts.
    pub subscriptions: Vec<SubscriptionRoles>,
    /// Where every grant, removal and refusal is written for staff. Optional.
    #[serde(with = "opt_snowflake")]
    pub log_channel_id: Option<u64>,
    /// The label of the checkout question that asks for the buyer's Discord name; the answer
    /// lets the bot give the role without the buyer typing `/claim`.
    pub checkout_question: Option<String>,
    /// Whether a partial refund leaves the roles in place (default true: the buyer still paid for
    /// the product).
    pub keep_on_partial_refund: bool,
    /// Give a member's roles back when they rejoin the server. Needs the Server Members intent,
    /// switched on in the Discord Developer Portal (Bot > Privileged Gateway Intents), or Discord
    /// refuses the bot's connection. Read at start-up.
    pub regrant_on_rejoin: bool,
}

impl Default for RolesConfig {
    fn default() -> Self {
        Self {
            products: Vec::new(),
            subscriptions: Vec::new(),
            log_channel_id: None,
            checkout_question: None,
            keep_on_partial_refund: true,
            regrant_on_rejoin: false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductRoles {
    /// Payhip's product key (the `AbC12` of payhip.com/b/AbC12); a store's product id or the
    /// exact product name also match.
    pub product: String,
    #[serde(with = "snowflakes")]
    pub roles: Vec<u64>,
    /// The product's secret key for Payhip's license API. Or set
    /// `PAYHIP_PRODUCT_SECRET_<PRODUCT KEY>` in the environment, which keeps it out of the file.
    #[serde(default)]
    pub secret_key: Option<ProductSecret>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionRoles {
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    #[serde(with = "snowflakes")]
    pub roles: Vec<u64>,
}

/// A product secret key: whoever has it can check every key of the product. Shown as `***`.
#[derive(Clone)]
pub struct ProductSecret(pub Secret);

impl fmt::Debug for ProductSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for ProductSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

impl<'de> Deserialize<'de> for ProductSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ProductSecret(Secret::new(String::deserialize(d)?.trim())))
    }
}

/// The environment variable that may hold a product's secret key.
pub fn secret_variable(product: &str) -> String {
    let name: String = product
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("PAYHIP_PRODUCT_SECRET_{name}")
}

impl RolesConfig {
    pub fn enabled(&self) -> bool {
        !self.products.is_empty() || !self.subscriptions.is_empty()
    }

    /// Every role id named anywhere in the section, once each.
    pub fn all_roles(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self
            .products
            .iter()
            .flat_map(|p| p.roles.iter().copied())
            .chain(
                self.subscriptions
                    .iter()
                    .flat_map(|s| s.roles.iter().copied()),
            )
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    pub(super) fn validate(&self, guild: Option<u64>, bad: &mut dyn FnMut(&str, String)) {
        if self.enabled() && guild.is_none() {
            bad(
                "discordConfig.guildId",
                "roles are given in one server: set the server's id here".into(),
            );
        }
        for (i, p) in self.products.iter().enumerate() {
            if p.product.trim().is_empty() {
                bad(
                    &format!("roles.products[{i}].product"),
                    "expected a Payhip product key like \"AbC12\"".into(),
                );
            }
            if p.roles.is_empty() {
                bad(
                    &format!("roles.products[{i}].roles"),
                    "expected at least one role id".into(),
                );
            }
        }
        for (i, s) in self.subscriptions.iter().enumerate() {
            let named = |v: &Option<String>| v.as_deref().is_some_and(|t| !t.trim().is_empty());
            if !named(&s.plan) && !named(&s.product) {
                bad(
                    &format!("roles.subscriptions[{i}]"),
                    "expected a \"plan\" or a \"product\"".into(),
                );
            }
            if s.roles.is_empty() {
                bad(
                    &format!("roles.subscriptions[{i}].roles"),
                    "expected at least one role id".into(),
                );
            }
        }
        if self
            .checkout_question
            .as_deref()
            .is_some_and(|q| q.trim().is_empty())
        {
            bad(
                "roles.checkoutQuestion",
                "expected the question's label, like \"Discord username\"".into(),
            );
        }
    }
}

/// Problems of the section, for [`super::Config::validate`].
pub(super) fn problems(config: &super::Config) -> Vec<Problem> {
    let mut out = Vec::new();
    config
        .roles
        .validate(config.discord_config.guild_id, &mut |path, message| {
            out.push(Problem {
                path: path.into(),
                message,
            })
        });
    out
}

/// Role ids: strings of digits (as Discord shows them) or numbers.
mod snowflakes {
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(v: &[u64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(u64::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
        let list = Vec::<Value>::deserialize(d)?;
        list.into_iter()
            .map(|v| {
                let id = match &v {
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    Value::Number(n) => n.as_u64(),
                    _ => None,
                };
                id.filter(|id| *id > 0).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "expected a Discord role id (digits, as a string), found {v}"
                    ))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_never_show() {
        let c: RolesConfig = serde_json::from_str(
            r#"{"products": [{"product": "AbC12", "roles": ["5"], "secretKey": "prod_sk_hidden"}]}"#,
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("prod_sk_hidden"));
        assert!(!serde_json::to_string(&c)
            .unwrap()
            .contains("prod_sk_hidden"));
        assert_eq!(c.products[0].roles, vec![5]);
    }

    #[test]
    fn the_variable_is_named_after_the_product_key() {
        assert_eq!(secret_variable("AbC-12"), "PAYHIP_PRODUCT_SECRET_ABC_12");
    }
}
