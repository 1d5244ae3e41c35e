//! The outbox queries: claims with a token and a short lease, the re-check before each post, and
//! the outcome of each notice. `CLAIM_LOCK` is the only dialect difference (PostgreSQL's row
//! locks, so that two instances never claim the same rows).

use super::super::CLAIM_LOCK;
use super::Db;
use super::Pool;
use crate::db::outbox::{decode, Claimed, ClaimedRow, Mark};
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
    sqlx::query(&format!("{CLAIM} {CLAIM_LOCK})"))
        .bind(lease_until)
        .bind(token)
        .bind(now)
        .bind(limit)
        .execute(pool)
        .await?;
    // A message started before goes out again whole: the rest of its notices come with it even
    // past the limit, or a retry would post a different set under the same nonce.
    sqlx::query(
        "UPDATE outbox SET lease_until = $1, claim_token = $2 WHERE status = 'pending' \
         AND message_group IN (SELECT c.message_group FROM outbox c WHERE c.claim_token = $2 \
         AND c.message_group IS NOT NULL) AND (lease_until IS NULL OR lease_until <= $3)",
    )
    .bind(lease_until)
    .bind(token)
    .bind(now)
    .execute(pool)
    .await?;
    let rows: Vec<ClaimedRow> = sqlx::query_as(
        "SELECT o.id, o.event_id, o.destination, o.attempts, o.created_at, \
         o.post_started_at, o.blind_reposts, o.message_group, e.data FROM outbox o \
         JOIN events e ON e.id = o.event_id \
         WHERE o.claim_token = $1 AND o.status = 'pending' ORDER BY o.id",
    )
    .bind(token)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(decode).collect())
}

/// The rows of `run` held by `token`: `$1`..`$2` are the ids, `$3` the destination (NULL for one
/// row), `$4` the token.
const RUN: &str = "id BETWEEN $1 AND $2 AND (CAST($3 AS TEXT) IS NULL OR destination = $3) \
    AND claim_token = $4 AND status = 'pending'";

/// The check before a post: the rows are still this claim's, first in their destination's
/// queue, and the whole of any message they were posted in before. Counts the attempt, renews
/// the lease, ties the rows into one message and, for webhook URLs, durably records that a post
/// is starting. Fewer rows than the run means do not post.
fn begin_sql() -> String {
    format!(
        "UPDATE outbox SET lease_until = $5, attempts = attempts + 1, \
         post_started_at = $6, blind_reposts = blind_reposts + $7, message_group = $1 \
         WHERE {RUN} \
         AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' \
         AND e.destination = outbox.destination AND e.id < $1) \
         AND NOT EXISTS (SELECT 1 FROM outbox g WHERE g.message_group = $1 \
         AND g.status = 'pending' AND g.id > $2)"
    )
}

/// Records the outcome of a post. Held by `token`, or posted in this message: a post whose lease
/// ran out while Discord took its time was still made, and must not be made again.
const FINISH: &str = "UPDATE outbox SET status = $5, discord_message_id = $6, delivered_at = $7, \
    lease_until = NULL, claim_token = NULL, post_started_at = NULL, last_error = NULL \
    WHERE id BETWEEN $1 AND $2 AND (CAST($3 AS TEXT) IS NULL OR destination = $3) \
    AND status = 'pending' AND (claim_token = $4 OR message_group = $1)";

/// Rows tried as one message stay one message on a retry: the post may have been made under its
/// nonce.
fn retry_sql() -> String {
    format!(
        "UPDATE outbox SET next_attempt_at = $5, lease_until = NULL, claim_token = NULL, \
         last_error = $6, post_started_at = CASE WHEN $7 = 1 THEN post_started_at END \
         WHERE {RUN}"
    )
}

fn dead_sql() -> String {
    format!(
        "UPDATE outbox SET status = 'dead', lease_until = NULL, claim_token = NULL, \
         last_error = $5 WHERE {RUN}"
    )
}

/// Applies `mark` on `conn` (a pooled connection, or the intake writer's open transaction):
/// how many rows it changed.
pub async fn apply(
    conn: &mut <Db as sqlx::Database>::Connection,
    mark: &Mark,
) -> Result<u64, DbError> {
    let (sql, run, token) = match mark {
        Mark::Begin { run, token, .. } => (begin_sql(), run, token),
        Mark::Finish { run, token, .. } => (FINISH.to_owned(), run, token),
        Mark::Retry { run, token, .. } => (retry_sql(), run, token),
        Mark::Dead { run, token, .. } => (dead_sql(), run, token),
    };
    let query = sqlx::query(&sql)
        .bind(run.first)
        .bind(run.last)
        .bind(run.destination.as_deref())
        .bind(token.as_str());
    let query = match mark {
        Mark::Begin {
            lease_until,
            started,
            blind,
            ..
        } => query
            .bind(*lease_until)
            .bind(*started)
            .bind(i64::from(*blind)),
        Mark::Finish {
            status,
            message_id,
            now,
            ..
        } => query.bind(*status).bind(message_id.as_deref()).bind(*now),
        Mark::Retry {
            at,
            error,
            in_doubt,
            ..
        } => query
            .bind(*at)
            .bind(error.as_str())
            .bind(i64::from(*in_doubt)),
        Mark::Dead { error, .. } => query.bind(error.as_str()),
    };
    Ok(query.execute(&mut *conn).await?.rows_affected())
}

/// [`apply`] on its own connection, in its own transaction.
pub async fn apply_mark(pool: &Pool, mark: &Mark) -> Result<u64, DbError> {
    let mut conn = pool.acquire().await?;
    apply(&mut conn, mark).await
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

/// Notices waiting for `destination`, counted up to `cap` (a long queue is not read through).
pub async fn backlog(pool: &Pool, destination: &str, cap: i64) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE status = 'pending' \
         AND destination = $1 LIMIT $2) waiting",
    )
    .bind(destination)
    .bind(cap)
    .fetch_one(pool)
    .await?)
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
