//! The digest queries: a row per digest and period, taken by one instance at a time under a
//! lease, and marked by the claim that posted it.

use super::Pool;
use crate::db::DbError;

/// Whether any period of this schedule has a row yet (false the first time it is seen).
pub async fn digest_schedule_known(pool: &Pool, schedule: &str) -> Result<bool, DbError> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT key FROM digests WHERE schedule = $1 LIMIT 1")
            .bind(schedule)
            .fetch_optional(pool)
            .await?;
    Ok(row.is_some())
}

/// Records a period as not to be posted, unless it already has a row.
pub async fn digest_skip(pool: &Pool, key: &str, schedule: &str, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO digests (key, schedule, status, lease_until, created_at) \
         VALUES ($1, $2, 'skipped', 0, $3) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(schedule)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes the period: a new row, or one whose last claimant's lease ran out before it posted.
/// Returns the claim's attempt number, or None when the period is posted, given up, or in
/// another instance's hands.
pub async fn digest_claim(
    pool: &Pool,
    key: &str,
    schedule: &str,
    now: i64,
    lease_until: i64,
) -> Result<Option<i64>, DbError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "INSERT INTO digests (key, schedule, status, lease_until, created_at) \
         VALUES ($1, $2, 'claimed', $3, $4) \
         ON CONFLICT (key) DO UPDATE SET lease_until = $3, attempt = digests.attempt + 1 \
         WHERE digests.status = 'claimed' AND digests.lease_until <= $4 \
         RETURNING attempt",
    )
    .bind(key)
    .bind(schedule)
    .bind(lease_until)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(a,)| a))
}

/// Ends the period's claim with `status` (posted or failed); false when the claim had passed to
/// another attempt.
pub async fn digest_finish(
    pool: &Pool,
    key: &str,
    attempt: i64,
    status: &str,
    late: bool,
    message_id: Option<&str>,
    now: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE digests SET status = $3, late = $4, message_id = $5, posted_at = $6 \
         WHERE key = $1 AND attempt = $2 AND status = 'claimed'",
    )
    .bind(key)
    .bind(attempt)
    .bind(status)
    .bind(late)
    .bind(message_id)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// (key, status, late, message id) of every row, oldest first: for tests and diagnostics.
pub async fn digest_rows(
    pool: &Pool,
) -> Result<Vec<(String, String, bool, Option<String>)>, DbError> {
    Ok(
        sqlx::query_as(
            "SELECT key, status, late, message_id FROM digests ORDER BY created_at, key",
        )
        .fetch_all(pool)
        .await?,
    )
}
