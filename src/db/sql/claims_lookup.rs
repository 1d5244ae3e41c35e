//! The lookups `/claim` and `/claims` make (see `db/claims/lookup.rs`).

use super::Pool;
use crate::db::claims::{decode, ClaimRow, Row, COLUMNS};
use crate::db::DbError;

pub async fn claims_of_purchase(pool: &Pool, purchase: &str) -> Result<Vec<ClaimRow>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM role_claims WHERE purchase = $1 ORDER BY id"
    ))
    .bind(purchase)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(decode).collect())
}

pub async fn claims_of_member(
    pool: &Pool,
    guild: i64,
    user: i64,
) -> Result<Vec<ClaimRow>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM role_claims WHERE guild_id = $1 AND user_id = $2 ORDER BY id"
    ))
    .bind(guild)
    .bind(user)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(decode).collect())
}

/// Stored sales and memberships with this transaction or subscription id, with the
/// event that describes each: (event id, provider, purchase id, event JSON).
pub async fn purchases(
    pool: &Pool,
    id: &str,
) -> Result<Vec<(i64, String, String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT e.id, s.provider, s.external_id, e.data FROM sales s \
         JOIN events e ON e.id = s.event_id WHERE s.external_id = $1 \
         UNION ALL SELECT e.id, s.provider, s.subscription_id, e.data FROM subscriptions s \
         JOIN events e ON e.id = s.last_event_id WHERE s.subscription_id = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// Sale events whose JSON contains `pattern` (a LIKE pattern with `\` escapes); the
/// caller checks the items exactly.
pub async fn sales_containing(
    pool: &Pool,
    pattern: &str,
) -> Result<Vec<(i64, String, String, String)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, provider, external_id, data FROM events WHERE kind = 'sale' \
         AND is_test = FALSE AND merged_into IS NULL AND data LIKE $1 ESCAPE '\\' ORDER BY id",
    )
    .bind(pattern)
    .fetch_all(pool)
    .await?)
}

/// The stored refund events of a sale, as JSON.
pub async fn refunds_of(pool: &Pool, provider: &str, sale: &str) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT e.data FROM refunds r JOIN events e ON e.id = r.event_id \
         WHERE r.provider = $1 AND r.sale_external_id = $2 ORDER BY e.id",
    )
    .bind(provider)
    .bind(sale)
    .fetch_all(pool)
    .await?)
}

/// The record a claim by license key is queued under when the bot never received
/// the key's sale: an event of kind `other`, never counted or listed.
pub async fn claim_record(pool: &Pool, key: &str, data: &str, now: i64) -> Result<i64, DbError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO events (provider, idempotency_key, event_type, kind, external_id, \
         occurred_at, received_at, is_test, data, raw) \
         VALUES ('payhip', $1, 'license_claim', 'other', $1, $2, $2, FALSE, $3, '') \
         ON CONFLICT (provider, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(key)
    .bind(now)
    .bind(data)
    .fetch_optional(pool)
    .await?;
    match id {
        Some(id) => Ok(id),
        None => Ok(sqlx::query_scalar(
            "SELECT id FROM events WHERE provider = 'payhip' AND idempotency_key = $1",
        )
        .bind(key)
        .fetch_one(pool)
        .await?),
    }
}
