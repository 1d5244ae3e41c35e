//! Discord roles for buyers: which purchase gives which roles, what takes them back, and who may
//! claim. The decisions are pure functions here; storage is `db::claims`, the Discord calls go
//! through the outbox (`outbox::roles`), and the commands are `/claim` and `/claims`.
//!
//! Role changes are queued in the outbox in two steps. An event that may change roles (a sale
//! naming the buyer's Discord account, a refund that ends a purchase, a cancelled membership)
//! gets one row to [`EVENT_DESTINATION`] in the same transaction as the event. Delivering that
//! row decides, against the claims as they stand then, which members gain or lose which roles,
//! and queues one row per member and role (`role:<guild>:<user>:<role>`), in one transaction
//! with marking the first row done. Those rows queue per member and role like notices per
//! channel, so a removal never overtakes the grant before it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RolesConfig;
use crate::domain::{Detail, Event, EventKind, Refund, RefundScope, Sale, Subscription};

pub mod claim;
pub mod payhip_api;

/// The outbox destination of "decide what this event changes".
pub const EVENT_DESTINATION: &str = "roles:event";

/// One member's role, as an outbox destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRole {
    pub guild: u64,
    pub user: u64,
    pub role: u64,
}

impl MemberRole {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.strip_prefix("role:")?.split(':');
        let mut next = || parts.next()?.parse::<u64>().ok();
        let (guild, user, role) = (next()?, next()?, next()?);
        Some(Self { guild, user, role })
    }

    pub fn to_stored(self) -> String {
        format!("role:{}:{}:{}", self.guild, self.user, self.role)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Grant,
    Revoke,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Grant => "grant",
            Action::Revoke => "revoke",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "grant" => Some(Action::Grant),
            "revoke" => Some(Action::Revoke),
            _ => None,
        }
    }
}

/// A purchase as claims key it: the store and its transaction (or subscription) id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    pub provider: String,
    pub id: String,
}

/// Whether intake queues a roles row for this event: only when roles are configured, never for
/// tests, and only for the kinds that can change a role.
pub fn routes(config: &RolesConfig, event: &Event) -> bool {
    if !config.enabled() || event.test {
        return false;
    }
    match &event.detail {
        Detail::Sale(sale) => config
            .checkout_question
            .as_deref()
            .and_then(|q| discord_name(sale, q))
            .is_some(),
        Detail::Refund(refund) => ends_purchase(refund, config.keep_on_partial_refund),
        Detail::Subscription(_) => event.kind == EventKind::SubscriptionCancelled,
        _ => false,
    }
}

/// The purchase whose roles this event takes back, with the reason staff see.
pub fn ended_purchase(config: &RolesConfig, event: &Event) -> Option<(Purchase, String)> {
    match &event.detail {
        Detail::Refund(r) if ends_purchase(r, config.keep_on_partial_refund) => {
            let why = match r.risk {
                Some(risk) => format!("{} on order {}", risk.as_str(), r.sale_external_id),
                None => format!("order {} refunded", r.sale_external_id),
            };
            Some((
                Purchase {
                    provider: event.provider.clone(),
                    id: r.sale_external_id.clone(),
                },
                why,
            ))
        }
        Detail::Subscription(s) if event.kind == EventKind::SubscriptionCancelled => Some((
            Purchase {
                provider: event.provider.clone(),
                id: s.subscription_id.clone(),
            },
            format!("subscription {} cancelled", s.subscription_id),
        )),
        _ => None,
    }
}

/// Whether a refund ends the purchase: a chargeback or fraud always does; a refund of the whole
/// purchase does; a partial one only when the seller does not keep roles for those. Payhip does
/// not say which it is, so the amount is compared with the purchase's total when known, and a
/// refund of unknown extent counts as whole.
pub fn ends_purchase(refund: &Refund, keep_on_partial: bool) -> bool {
    if refund.risk.is_some() {
        return true;
    }
    let partial = match refund.scope {
        RefundScope::Whole => false,
        RefundScope::Partial => true,
        RefundScope::Unknown | RefundScope::Cumulative => refund
            .original_total
            .as_ref()
            .is_some_and(|t| t.currency == refund.amount.currency && refund.amount.minor < t.minor),
    };
    !partial || !keep_on_partial
}

/// The roles a sale gives: those of every configured product among its items.
pub fn roles_for_sale(config: &RolesConfig, sale: &Sale) -> Vec<u64> {
    let mut out: Vec<u64> = config
        .products
        .iter()
        .filter(|p| {
            sale.items.iter().any(|i| {
                let want = p.product.trim();
                i.product_key.as_deref() == Some(want)
                    || i.product_id.as_deref() == Some(want)
                    || i.name == want
            })
        })
        .flat_map(|p| p.roles.iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The roles a membership gives, by plan or product.
pub fn roles_for_subscription(config: &RolesConfig, sub: &Subscription) -> Vec<u64> {
    let same = |want: &Option<String>, have: &Option<String>| match (want, have) {
        (Some(w), Some(h)) => w.trim().eq_ignore_ascii_case(h.trim()),
        _ => false,
    };
    let mut out: Vec<u64> = config
        .subscriptions
        .iter()
        .filter(|s| same(&s.plan, &sub.plan) || same(&s.product, &sub.product))
        .flat_map(|s| s.roles.iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The roles an event's purchase gives, if it is a purchase.
pub fn roles_for_event(config: &RolesConfig, event: &Event) -> Vec<u64> {
    match &event.detail {
        Detail::Sale(s) => roles_for_sale(config, s),
        Detail::Subscription(s) => roles_for_subscription(config, s),
        _ => Vec::new(),
    }
}

/// The roles a member loses when a purchase ends: its roles that no other live purchase of the
/// same member gives.
pub fn roles_to_remove(ended: &[u64], still_held: &[Vec<u64>]) -> Vec<u64> {
    ended
        .iter()
        .copied()
        .filter(|r| !still_held.iter().any(|roles| roles.contains(r)))
        .collect()
}

/// The buyer's answer to the checkout question labelled like `question` (case and spacing
/// aside), when it is not blank.
pub fn discord_name(sale: &Sale, question: &str) -> Option<String> {
    let answers = sale.checkout_answers.as_ref()?.0.as_array()?;
    let want = normalise(question);
    answers.iter().find_map(|a| {
        let label = a.get("question").or_else(|| a.get("label"))?.as_str()?;
        if normalise(label) != want {
            return None;
        }
        let answer = a.get("answer").or_else(|| a.get("value"))?.as_str()?.trim();
        (!answer.is_empty()).then(|| answer.to_owned())
    })
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['?', ':'])
        .to_lowercase()
}

/// What a buyer may have typed for their Discord account: `@name`, `name#0`, a mention or an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscordName {
    Id(u64),
    Name(String),
}

pub fn parse_discord_name(text: &str) -> Option<DiscordName> {
    let t = text.trim();
    let inner = t
        .strip_prefix("<@")
        .and_then(|r| r.strip_suffix('>'))
        .map(|r| r.trim_start_matches('!'));
    if let Some(id) = inner.or(Some(t)).and_then(|s| s.parse::<u64>().ok()) {
        return Some(DiscordName::Id(id));
    }
    let name = t.trim_start_matches('@');
    let name = name.split_once('#').map_or(name, |(n, _)| n).trim();
    (!name.is_empty() && name.len() <= 32).then(|| DiscordName::Name(name.to_lowercase()))
}

/// Per member: at most `limit` `/claim` attempts in `window`, so keys and order ids cannot be
/// guessed through the bot.
pub struct ClaimLimiter {
    limit: usize,
    window: Duration,
    tries: Mutex<HashMap<u64, Vec<Instant>>>,
}

impl ClaimLimiter {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            tries: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt; `Err(wait)` when the member must wait that long first.
    pub fn attempt(&self, user: u64, now: Instant) -> Result<(), Duration> {
        let mut tries = match self.tries.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if tries.len() > 10_000 {
            let window = self.window;
            tries.retain(|_, t| {
                t.iter()
                    .any(|at| now.saturating_duration_since(*at) < window)
            });
        }
        let list = tries.entry(user).or_default();
        list.retain(|at| now.saturating_duration_since(*at) < self.window);
        if list.len() >= self.limit {
            let oldest = list.iter().min().copied().unwrap_or(now);
            return Err(self
                .window
                .saturating_sub(now.saturating_duration_since(oldest)));
        }
        list.push(now);
        Ok(())
    }
}

impl Default for ClaimLimiter {
    /// Five tries in ten minutes: enough for typos, far too few to guess a key.
    fn default() -> Self {
        Self::new(5, Duration::from_secs(600))
    }
}

#[cfg(test)]
mod tests;
