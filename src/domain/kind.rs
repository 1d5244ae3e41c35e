//! What happened, and which notice family announces it.

use serde::{Deserialize, Serialize};

/// What kind of thing happened, as stored in the `kind` column and used for stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Sale,
    Refund,
    SubscriptionStarted,
    SubscriptionUpdated,
    SubscriptionCancelled,
    /// The store says a subscription will not renew: still active until its period ends.
    SubscriptionNotRenewing,
    /// A buyer disputed a payment with their bank or payment system (opened, or its status changed).
    Dispute,
    /// The store's anti-fraud check blocked a payment: no money moved, never revenue.
    PaymentBlocked,
    /// Acknowledged and recorded, never announced.
    Other,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Sale => "sale",
            EventKind::Refund => "refund",
            EventKind::SubscriptionStarted => "subscription_started",
            EventKind::SubscriptionUpdated => "subscription_updated",
            EventKind::SubscriptionCancelled => "subscription_cancelled",
            EventKind::SubscriptionNotRenewing => "subscription_not_renewing",
            EventKind::Dispute => "dispute",
            EventKind::PaymentBlocked => "payment_blocked",
            EventKind::Other => "other",
        }
    }

    /// Which notice family (channel, color, toggle, template) the kind belongs to.
    pub fn notice_kind(self) -> Option<NoticeKind> {
        match self {
            EventKind::Sale => Some(NoticeKind::Sale),
            // Money that went back or may go back, and payments that never came: where sellers
            // watch refunds.
            EventKind::Refund | EventKind::Dispute | EventKind::PaymentBlocked => {
                Some(NoticeKind::Refund)
            }
            EventKind::SubscriptionStarted
            | EventKind::SubscriptionUpdated
            | EventKind::SubscriptionCancelled
            | EventKind::SubscriptionNotRenewing => Some(NoticeKind::Subscription),
            EventKind::Other => None,
        }
    }
}

/// The three notice families sellers configure: a channel, a color, a toggle and a template each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    Sale,
    Refund,
    Subscription,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 3] = [
        NoticeKind::Sale,
        NoticeKind::Refund,
        NoticeKind::Subscription,
    ];

    /// The key used for this family in `embedColors`, `notifications` and `eventTypes`.
    pub fn config_key(self) -> &'static str {
        match self {
            NoticeKind::Sale => "newSale",
            NoticeKind::Refund => "refund",
            NoticeKind::Subscription => "subscription",
        }
    }
}
