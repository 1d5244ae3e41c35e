//! The quarantine of webhooks refused for their signature (see `crate::quarantine`).

use super::super::BEGIN_WRITE;
use super::Pool;
use crate::db::{DbError, RejectedBody};

/// Keeps one body, then drops the oldest until at most `max_bodies` bodies of at most
/// `max_bytes` bytes in all are left, in one transaction.
pub async fn keep_rejected(
    pool: &Pool,
    body: &RejectedBody,
    max_bodies: i64,
    max_bytes: i64,
) -> Result<(), DbError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query(
        "INSERT INTO rejected_bodies (provider, headers, body, bytes, received_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&body.provider)
    .bind(&body.headers)
    .bind(&body.body)
    .bind(i64::try_from(body.body.len()).unwrap_or(i64::MAX))
    .bind(body.received_at)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM rejected_bodies WHERE id IN (SELECT id FROM (SELECT id, \
         ROW_NUMBER() OVER (ORDER BY id DESC) AS n, SUM(bytes) OVER (ORDER BY id DESC) AS total \
         FROM rejected_bodies) AS newest_first WHERE n > $1 OR total > $2)",
    )
    .bind(max_bodies)
    .bind(max_bytes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every kept body, oldest first.
pub async fn rejected_bodies(pool: &Pool) -> Result<Vec<RejectedBody>, DbError> {
    let rows: Vec<(i64, String, String, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT id, provider, headers, body, received_at FROM rejected_bodies ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, provider, headers, body, received_at)| RejectedBody {
            id,
            provider,
            headers,
            body,
            received_at,
        })
        .collect())
}

pub async fn forget_rejected(pool: &Pool, id: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM rejected_bodies WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
