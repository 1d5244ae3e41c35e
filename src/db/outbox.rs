//! The outbox queries: claims with a token and a short lease, the re-check before each post, and
//! the outcome of each notice. Same SQL on both backends; `$lock` is the only dialect difference
//! (PostgreSQL's row locks, so that two instances never claim the same rows).

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

type ClaimedRow = (i64, i64, String, i64, i64, Option<i64>, i64, String);

macro_rules! outbox_queries {
    ($module:ident, $db:ty, $lock:literal) => {
        pub(crate) mod $module {
            use super::*;
            type Pool = sqlx::Pool<$db>;

            /// Takes due rows whose destination has no earlier row waiting (for a retry or in
            /// another instance's hands), so each destination's notices go out in order.
            pub async fn claim(
                pool: &Pool,
                token: &str,
                now: i64,
                lease_until: i64,
                limit: i64,
            ) -> Result<Vec<Claimed>, DbError> {
                // Each destination's first waiting row (leased or due later) is found once, so
                // a claim reads the queue once however long the backlog is.
                sqlx::query(concat!(
                    "UPDATE outbox SET lease_until = $1, claim_token = $2 WHERE id IN (",
                    "SELECT o.id FROM outbox o LEFT JOIN (",
                    "SELECT w.destination, MIN(w.id) AS first FROM outbox w ",
                    "WHERE w.status = 'pending' AND (w.next_attempt_at > $3 ",
                    "OR (w.lease_until IS NOT NULL AND w.lease_until > $3)) ",
                    "GROUP BY w.destination) b ON b.destination = o.destination ",
                    "WHERE o.status = 'pending' AND o.next_attempt_at <= $3 ",
                    "AND (o.lease_until IS NULL OR o.lease_until <= $3) ",
                    "AND (b.first IS NULL OR o.id < b.first) ",
                    "ORDER BY o.id LIMIT $4 ",
                    $lock,
                    ")"
                ))
                .bind(lease_until)
                .bind(token)
                .bind(now)
                .bind(limit)
                .execute(pool)
                .await?;
                let rows: Vec<ClaimedRow> = sqlx::query_as(
                    "SELECT o.id, o.event_id, o.destination, o.attempts, o.created_at, \
                     o.post_started_at, o.blind_reposts, e.data FROM outbox o \
                     JOIN events e ON e.id = o.event_id \
                     WHERE o.claim_token = $1 AND o.status = 'pending' ORDER BY o.id",
                )
                .bind(token)
                .fetch_all(pool)
                .await?;
                Ok(rows.into_iter().map(decode).collect())
            }

            /// The check before a post: the row is still this claim's and still first in its
            /// destination's queue. Counts the attempt, renews the lease and, for webhook URLs,
            /// durably records that a post is starting. False: do not post.
            pub async fn begin_attempt(
                pool: &Pool,
                id: i64,
                token: &str,
                lease_until: i64,
                started: Option<i64>,
                blind: bool,
            ) -> Result<bool, DbError> {
                let done = sqlx::query(
                    "UPDATE outbox SET lease_until = $3, attempts = attempts + 1, \
                     post_started_at = $4, blind_reposts = blind_reposts + $5 \
                     WHERE id = $1 AND claim_token = $2 AND status = 'pending' \
                     AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' \
                     AND e.destination = outbox.destination AND e.id < outbox.id)",
                )
                    .bind(id)
                    .bind(token)
                    .bind(lease_until)
                    .bind(started)
                    .bind(i64::from(blind))
                    .execute(pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            pub async fn renew(pool: &Pool, token: &str, lease_until: i64) -> Result<u64, DbError> {
                Ok(sqlx::query(
                    "UPDATE outbox SET lease_until = $2 WHERE claim_token = $1 AND status = 'pending'",
                )
                .bind(token)
                .bind(lease_until)
                .execute(pool)
                .await?
                .rows_affected())
            }

            pub async fn finish(
                pool: &Pool,
                id: i64,
                status: &str,
                message_id: Option<&str>,
                now: i64,
            ) -> Result<(), DbError> {
                sqlx::query(
                    "UPDATE outbox SET status = $2, discord_message_id = $3, delivered_at = $4, \
                     lease_until = NULL, claim_token = NULL, post_started_at = NULL, \
                     last_error = NULL WHERE id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(status)
                .bind(message_id)
                .bind(now)
                .execute(pool)
                .await?;
                Ok(())
            }

            pub async fn retry_at(
                pool: &Pool,
                id: i64,
                token: &str,
                at: i64,
                error: &str,
                in_doubt: bool,
            ) -> Result<(), DbError> {
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $3, lease_until = NULL, claim_token = NULL, \
                     last_error = $4, post_started_at = CASE WHEN $5 = 1 THEN post_started_at END \
                     WHERE id = $1 AND claim_token = $2",
                )
                .bind(id)
                .bind(token)
                .bind(at)
                .bind(error)
                .bind(i64::from(in_doubt))
                .execute(pool)
                .await?;
                Ok(())
            }

            pub async fn dead_letter(
                pool: &Pool,
                id: i64,
                token: &str,
                error: &str,
            ) -> Result<(), DbError> {
                sqlx::query(
                    "UPDATE outbox SET status = 'dead', lease_until = NULL, claim_token = NULL, \
                     last_error = $3 WHERE id = $1 AND claim_token = $2",
                )
                .bind(id)
                .bind(token)
                .bind(error)
                .execute(pool)
                .await?;
                Ok(())
            }

            /// Gives back rows of a claim that were not tried; they stay due.
            pub async fn release(pool: &Pool, token: &str) -> Result<u64, DbError> {
                Ok(sqlx::query(
                    "UPDATE outbox SET lease_until = NULL, claim_token = NULL \
                     WHERE claim_token = $1 AND status = 'pending'",
                )
                .bind(token)
                .execute(pool)
                .await?
                .rows_affected())
            }

            /// When the first row of some destination's queue becomes due or its lease runs out.
            pub async fn next_due(pool: &Pool) -> Result<Option<i64>, DbError> {
                // The head of each destination's queue, found with one pass over the index.
                let sql = "SELECT MIN(CASE WHEN o.lease_until IS NOT NULL \
                     AND o.lease_until > o.next_attempt_at THEN o.lease_until \
                     ELSE o.next_attempt_at END) FROM outbox o JOIN (SELECT MIN(id) AS id \
                     FROM outbox WHERE status = 'pending' GROUP BY destination) h ON h.id = o.id";
                Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
            }

            // Used for SQLite only: PostgreSQL instances never free each other's leases.
            #[allow(dead_code)]
            pub async fn release_leases(pool: &Pool) -> Result<u64, DbError> {
                Ok(sqlx::query(
                    "UPDATE outbox SET lease_until = NULL, claim_token = NULL \
                     WHERE status = 'pending' AND lease_until IS NOT NULL",
                )
                .execute(pool)
                .await?
                .rows_affected())
            }
        }
    };
}

outbox_queries!(sqlite, sqlx::Sqlite, "");
outbox_queries!(postgres, sqlx::Postgres, "FOR UPDATE OF o SKIP LOCKED");

fn decode(row: ClaimedRow) -> Claimed {
    let (id, event_id, destination, attempts, created_at, post_started_at, blind_reposts, data) =
        row;
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
        event,
    }
}

/// As `on_backend!`, for a write: on SQLite it first waits its turn at the write gate.
macro_rules! on_backend_write {
    ($store:expr, $func:ident ( $($arg:expr),* )) => {
        match $store {
            Store::Sqlite(s) => {
                let _turn = s.write_turn().await;
                sqlite::$func(s $(, $arg)*).await
            }
            Store::Postgres(p) => postgres::$func(p $(, $arg)*).await,
        }
    };
}

/// Calls the same-named query function on whichever backend this store is.
macro_rules! on_backend {
    ($store:expr, $func:ident ( $($arg:expr),* )) => {
        match $store {
            Store::Sqlite(p) => sqlite::$func(p $(, $arg)*).await,
            Store::Postgres(p) => postgres::$func(p $(, $arg)*).await,
        }
    };
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

    /// See the query: false means "do not post" (the claim was lost or an earlier notice to the
    /// same place is waiting).
    pub async fn begin_attempt(
        &self,
        id: i64,
        token: &str,
        lease_until: i64,
        started: Option<i64>,
        blind: bool,
    ) -> Result<bool, DbError> {
        on_backend_write!(self, begin_attempt(id, token, lease_until, started, blind))
    }

    /// Extends the lease of every row still held by `token`.
    pub async fn renew_claim(&self, token: &str, lease_until: i64) -> Result<u64, DbError> {
        on_backend_write!(self, renew(token, lease_until))
    }

    pub async fn release_claim(&self, token: &str) -> Result<u64, DbError> {
        on_backend_write!(self, release(token))
    }

    pub async fn mark_delivered(
        &self,
        id: i64,
        message_id: Option<&str>,
        now: i64,
    ) -> Result<(), DbError> {
        on_backend_write!(self, finish(id, "delivered", message_id, now))
    }

    pub async fn mark_previewed(&self, id: i64, now: i64) -> Result<(), DbError> {
        on_backend_write!(self, finish(id, "preview", None, now))
    }

    /// Schedules another try. `in_doubt`: the last post got no answer, so the next attempt looks
    /// for it first.
    pub async fn retry_at(
        &self,
        id: i64,
        token: &str,
        at: i64,
        error: &str,
        in_doubt: bool,
    ) -> Result<(), DbError> {
        on_backend_write!(self, retry_at(id, token, at, error, in_doubt))
    }

    pub async fn dead_letter(&self, id: i64, token: &str, error: &str) -> Result<(), DbError> {
        on_backend_write!(self, dead_letter(id, token, error))
    }

    /// Frees rows claimed by a process that is gone. Only safe where one process owns the
    /// database (SQLite); PostgreSQL instances wait for leases to expire instead.
    pub async fn release_stale_leases(&self) -> Result<u64, DbError> {
        match self {
            Store::Sqlite(s) => {
                let _turn = s.write_turn().await;
                sqlite::release_leases(s).await
            }
            Store::Postgres(_) => Ok(0),
        }
    }

    /// When the next notice can be claimed (a retry falls due or a lease runs out), if any.
    pub async fn next_due(&self) -> Result<Option<i64>, DbError> {
        on_backend!(self, next_due())
    }
}
