//! Claims: purchases bound to Discord members, and the role changes they queue in the outbox.
//! Each change is written in the same transaction as the claim it follows from, so a claim,
//! a refund or an unbind never exists without its queued grants or removals. Same SQL on both
//! backends (`sql/claims.rs`); every write takes the SQLite write gate.

use super::{DbError, Store};

mod lookup;

/// A purchase bound to a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimRow {
    pub provider: String,
    pub purchase: String,
    pub event_id: i64,
    pub guild: u64,
    pub user: u64,
    pub roles: Vec<u64>,
    /// `license_key`, `order` or `checkout`.
    pub via: String,
    /// `live`, `ended` or `unbound`.
    pub status: String,
    pub ended_reason: Option<String>,
    pub claimed_at: i64,
}

pub(crate) type Row = (
    String,
    String,
    i64,
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
);

pub(crate) const COLUMNS: &str =
    "provider, purchase, event_id, guild_id, user_id, roles, via, status, \
                       ended_reason, claimed_at";

pub(crate) fn decode(r: Row) -> ClaimRow {
    let (provider, purchase, event_id, guild, user, roles, via, status, ended_reason, claimed_at) =
        r;
    ClaimRow {
        provider,
        purchase,
        event_id,
        guild: guild.cast_unsigned(),
        user: user.cast_unsigned(),
        roles: parse_roles(&roles),
        via,
        status,
        ended_reason,
        claimed_at,
    }
}

pub(crate) fn parse_roles(text: &str) -> Vec<u64> {
    text.split_whitespace()
        .filter_map(|r| r.parse().ok())
        .collect()
}

pub(crate) fn roles_text(roles: &[u64]) -> String {
    roles
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A claim to write: the purchase, the member, and the roles it gives.
#[derive(Debug, Clone)]
pub struct NewClaim<'a> {
    pub provider: &'a str,
    pub purchase: &'a str,
    /// The stored event the grants are queued under (the sale, or the claim's own record).
    pub event_id: i64,
    pub guild: u64,
    pub user: u64,
    pub roles: &'a [u64],
    pub via: &'a str,
    /// Shown to staff with each grant.
    pub reason: &'a str,
    pub now: i64,
}

/// The outbox row a decision is made for: it is marked done in the same transaction, or, when
/// its claim was lost to another instance, nothing is written.
#[derive(Debug, Clone, Copy)]
pub struct Finishing<'a> {
    pub outbox_id: i64,
    pub token: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bound {
    /// Bound now; this many grants are queued.
    New(usize),
    /// The same member claimed it before (after rejoining, say): the grants are queued again.
    Again(usize),
    /// Another member holds it.
    TakenByOther(u64),
    /// Refunded, charged back or cancelled.
    Ended(Option<String>),
    /// The outbox row being decided was taken over: nothing was written.
    Lost,
}

impl Store {
    /// Binds a purchase to a member and queues its grants (see [`Bound`]).
    pub async fn bind_claim(
        &self,
        claim: &NewClaim<'_>,
        finishing: Option<Finishing<'_>>,
    ) -> Result<Bound, DbError> {
        on_backend_write!(self, bind(claim, finishing))
    }

    /// Ends a purchase's live claims and queues the removals; returns the claims ended.
    pub async fn end_claims(
        &self,
        provider: Option<&str>,
        purchase: &str,
        status: &str,
        reason: &str,
        now: i64,
        finishing: Option<Finishing<'_>>,
    ) -> Result<Option<Vec<ClaimRow>>, DbError> {
        on_backend_write!(
            self,
            end(provider, purchase, status, reason, now, finishing)
        )
    }

    /// Queues again the grants of a member's live claims; returns how many roles.
    pub async fn regrant_member(&self, guild: u64, user: u64, now: i64) -> Result<usize, DbError> {
        on_backend_write!(self, regrant(guild, user, now))
    }

    /// What a `role:` outbox row does: (action, reason).
    pub async fn role_change(&self, outbox_id: i64) -> Result<Option<(String, String)>, DbError> {
        on_backend!(self, change(outbox_id))
    }
}
