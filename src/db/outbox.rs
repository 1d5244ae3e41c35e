//! The outbox façade: claims with a token and a short lease, the re-check before each post, and
//! the outcome of each notice. The SQL is in `sql/outbox.rs`; every write takes the SQLite write
//! gate.

use super::writer::Writer;
use super::{redacted_destination, DbError, Store};
use crate::domain::Event;

/// An outbox row claimed for delivery, with the event it announces.
#[derive(Clone)]
pub struct Claimed {
    pub id: i64,
    pub event_id: i64,
    pub destination: String,
    /// Posts made before this claim.
    pub attempts: i64,
    pub created_at: i64,
    /// Set when an earlier post to a webhook URL got no answer: it may be in the channel.
    pub post_started_at: Option<i64>,
    /// Posts made while such an earlier outcome could not be checked.
    pub blind_reposts: i64,
    /// The first notice of the message this one was posted in, once it has been tried: a retry
    /// posts the same set again.
    pub message_group: Option<i64>,
    /// The stored event, or why it cannot be read (such a notice is dead-lettered alone).
    pub event: Result<Event, String>,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("id", &self.id)
            .field("event_id", &self.event_id)
            .field("destination", &redacted_destination(&self.destination))
            .field("attempts", &self.attempts)
            .field("post_started_at", &self.post_started_at)
            .finish_non_exhaustive()
    }
}

pub(crate) type ClaimedRow = (
    i64,
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    i64,
    Option<i64>,
    String,
);

/// The notices one post carries: one row, or a run of one destination's claimed queue posted as
/// one message. A run is contiguous in that queue, so its ids and destination name it exactly.
#[derive(Debug, Clone)]
pub struct Run {
    pub first: i64,
    pub last: i64,
    /// `None` for a single row, whose id alone names it.
    pub destination: Option<String>,
    pub len: u64,
}

impl Run {
    pub fn one(id: i64) -> Self {
        Self {
            first: id,
            last: id,
            destination: None,
            len: 1,
        }
    }

    /// The rows `rows` (non-empty, one destination, in queue order).
    pub fn of(rows: &[Claimed]) -> Self {
        match (rows.first(), rows.last()) {
            (Some(first), Some(last)) if rows.len() > 1 => Self {
                first: first.id,
                last: last.id,
                destination: Some(first.destination.clone()),
                len: rows.len() as u64,
            },
            (Some(only), _) => Self::one(only.id),
            _ => Self {
                first: 0,
                last: -1,
                destination: None,
                len: 0,
            },
        }
    }
}

/// A change to claimed outbox rows: the check before a post and the outcome after it. Owned, so
/// that on SQLite it can join the intake writer's next commit (see [`super::writer`]).
#[derive(Debug, Clone)]
pub enum Mark {
    /// See `sql/outbox.rs`: counts the attempt; fewer rows than the run means do not post.
    Begin {
        run: Run,
        token: String,
        lease_until: i64,
        started: Option<i64>,
        blind: bool,
    },
    /// Delivered (or previewed): `status` is `delivered` or `preview`.
    Finish {
        run: Run,
        token: String,
        status: &'static str,
        message_id: Option<String>,
        now: i64,
    },
    /// Another try at `at`; `in_doubt` keeps the post's start time (a webhook URL's message is
    /// looked for first).
    Retry {
        run: Run,
        token: String,
        at: i64,
        error: String,
        in_doubt: bool,
    },
    Dead {
        run: Run,
        token: String,
        error: String,
    },
}

pub(crate) fn decode(row: ClaimedRow) -> Claimed {
    let (
        id,
        event_id,
        destination,
        attempts,
        created_at,
        post_started_at,
        blind_reposts,
        message_group,
        data,
    ) = row;
    let event = serde_json::from_str::<Event>(&data)
        .map_err(|e| format!("stored event {event_id} cannot be read: {e}"));
    Claimed {
        id,
        event_id,
        destination,
        attempts,
        created_at,
        post_started_at,
        blind_reposts,
        message_group,
        event,
    }
}

impl Store {
    /// Claims up to `limit` due rows for `token` until `lease_until`.
    pub async fn claim_due(
        &self,
        token: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<Claimed>, DbError> {
        on_backend_write!(self, claim(token, now, lease_until, limit))
    }

    /// Applies one mark in its own transaction: rows changed. Intake's writer applies the same
    /// marks inside its group commit on SQLite ([`super::writer::Writer::mark`]).
    pub async fn apply_mark(&self, mark: &Mark) -> Result<u64, DbError> {
        on_backend_write!(self, apply_mark(mark))
    }

    /// Extends the lease of every row still held by `token`.
    pub async fn renew_claim(&self, token: &str, lease_until: i64) -> Result<u64, DbError> {
        on_backend_write!(self, renew(token, lease_until))
    }

    pub async fn release_claim(&self, token: &str) -> Result<u64, DbError> {
        on_backend_write!(self, release(token))
    }

    /// How many notices wait for `destination`, counted up to `cap`.
    pub async fn backlog(&self, destination: &str, cap: i64) -> Result<i64, DbError> {
        on_backend!(self, backlog(destination, cap))
    }

    /// Frees rows claimed by a process that is gone. Only safe where one process owns the
    /// database (SQLite); PostgreSQL instances wait for leases to expire instead.
    pub async fn release_stale_leases(&self) -> Result<u64, DbError> {
        match self {
            Store::Sqlite(s) => {
                let _turn = s.write_turn().await;
                crate::db::sqlite::release_leases(s).await
            }
            Store::Postgres(_) => Ok(0),
        }
    }

    /// When the next notice can be claimed (a retry falls due or a lease runs out), if any.
    pub async fn next_due(&self) -> Result<Option<i64>, DbError> {
        on_backend!(self, next_due())
    }
}

/// The outbox's marks through the writer: on SQLite they join intake's next group commit.
impl Writer {
    /// See the query: false means "do not post" (the claim was lost, an earlier notice to the
    /// same place is waiting, or part of the message is elsewhere).
    pub async fn begin_attempt(
        &self,
        run: Run,
        token: &str,
        lease_until: i64,
        started: Option<i64>,
        blind: bool,
    ) -> Result<bool, DbError> {
        let len = run.len;
        let mark = Mark::Begin {
            run,
            token: token.to_owned(),
            lease_until,
            started,
            blind,
        };
        Ok(self.mark(mark).await? == len)
    }

    pub async fn mark_delivered(
        &self,
        run: Run,
        token: &str,
        message_id: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        self.finish(run, token, "delivered", message_id, now).await
    }

    pub async fn mark_previewed(&self, id: i64, token: &str, now: i64) -> Result<(), DbError> {
        self.finish(Run::one(id), token, "preview", None, now).await
    }

    async fn finish(
        &self,
        run: Run,
        token: &str,
        status: &'static str,
        message_id: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        let mark = Mark::Finish {
            run,
            token: token.to_owned(),
            status,
            message_id: message_id.map(str::to_owned),
            now,
        };
        self.mark(mark).await.map(drop)
    }

    /// Schedules another try. `in_doubt`: the last post got no answer, so the next attempt looks
    /// for it first (webhook URLs).
    pub async fn retry_at(
        &self,
        run: Run,
        token: &str,
        at: i64,
        error: &str,
        in_doubt: bool,
    ) -> Result<(), DbError> {
        let mark = Mark::Retry {
            run,
            token: token.to_owned(),
            at,
            error: error.to_owned(),
            in_doubt,
        };
        self.mark(mark).await.map(drop)
    }

    pub async fn dead_letter(&self, run: Run, token: &str, error: &str) -> Result<(), DbError> {
        let mark = Mark::Dead {
            run,
            token: token.to_owned(),
            error: error.to_owned(),
        };
        self.mark(mark).await.map(drop)
    }
}
