//! The outbox queries: claims with a token and a short lease, the re-check before each post, and
//! the outcome of each notice. `CLAIM_LOCK` is the only dialect difference (PostgreSQL's row
//! locks, so that two instances never claim the same rows).

use super::super::CLAIM_LOCK;
use super::Pool;
use crate::db::outbox::{decode, Claimed, ClaimedRow};
use crate::db::DbError;

/// Due rows whose destination has no earlier row waiting. Each destination's first waiting row
/// (leased, or due later) is found once, so a claim reads the queue once however long the backlog
/// is. Completed by the backend's `CLAIM_LOCK` and a closing parenthesis.
const CLAIM: &str = "UPDATE outbox SET lease_until = $1, claim_token = $2 WHERE id IN (\
    SELECT o.id FROM outbox o LEFT JOIN (\
    SELECT w.destination, MIN(w.id) AS first FROM outbox w \
    WHERE w.status = 'pending' AND (w.next_attempt_at > $3 \
    OR (w.lease_until IS NOT NULL AND w.lease_until > $3)) \
    GROUP BY w.destination) b ON b.destination = o.destination \
    WHERE o.status = 'pending' AND o.next_attempt_at <= $3 \
    AND (o.lease_until IS NULL OR o.lease_until <= $3) \
    AND (b.first IS NULL OR o.id < b.first) \
    ORDER BY o.id LIMIT $4";

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
    sqlx::query(&format!("{CLAIM} {CLAIM_LOCK})"))
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

pub async fn dead_letter(pool: &Pool, id: i64, token: &str, error: &str) -> Result<(), DbError> {
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
