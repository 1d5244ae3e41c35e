//! What reports and commands read: `/stats` sums (from roll-ups or raw rows), `/sales` pages,
//! the outbox and table counts for `/botinfo`.

use super::Pool;
use crate::db::{
    DbError, MetricCounts, MoneyRow, OutboxCounts, OutboxRow, RecentQuery, StoredEvent, TableCounts,
};

pub async fn outbox_counts(pool: &Pool) -> Result<OutboxCounts, DbError> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            .fetch_all(pool)
            .await?;
    let mut c = OutboxCounts::default();
    for (status, n) in rows {
        match status.as_str() {
            "pending" => c.pending = n,
            "delivered" => c.delivered = n,
            "preview" => c.preview = n,
            "dead" => c.dead = n,
            _ => {}
        }
    }
    Ok(c)
}

pub async fn outbox_rows(pool: &Pool) -> Result<Vec<OutboxRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, event_id, destination, status, attempts, last_error, discord_message_id \
         FROM outbox ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn table_counts(pool: &Pool) -> Result<TableCounts, DbError> {
    let (events, test_events): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN is_test THEN 1 ELSE 0 END), 0) FROM events",
    )
    .fetch_one(pool)
    .await?;
    let count = |table: &'static str| async move {
        sqlx::query_scalar::<_, i64>(table).fetch_one(pool).await
    };
    Ok(TableCounts {
        events,
        test_events,
        sales: count("SELECT COUNT(*) FROM sales").await?,
        refunds: count("SELECT COUNT(*) FROM refunds").await?,
        subscriptions: count("SELECT COUNT(*) FROM subscriptions").await?,
    })
}

pub async fn money_rollup(
    pool: &Pool,
    grain: &str,
    from: i64,
    to: i64,
    provider: Option<&str>,
) -> Result<Vec<MoneyRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT currency, CAST(SUM(sales) AS BIGINT), CAST(SUM(gross_minor) AS BIGINT), \
         CAST(SUM(fees_minor) AS BIGINT), CAST(SUM(refunds) AS BIGINT), CAST(SUM(refund_minor) \
         AS BIGINT) \
         FROM rollup_money WHERE grain = $4 AND bucket >= $1 AND bucket < $2 \
         AND (CAST($3 AS TEXT) IS NULL OR provider = $3) GROUP BY currency",
    )
    .bind(from)
    .bind(to)
    .bind(provider)
    .bind(grain)
    .fetch_all(pool)
    .await?)
}

pub async fn money_raw(
    pool: &Pool,
    from: i64,
    to: i64,
    provider: Option<&str>,
    product: Option<&str>,
) -> Result<Vec<MoneyRow>, DbError> {
    let mut rows: Vec<MoneyRow> = sqlx::query_as(
        "SELECT currency, COUNT(*), CAST(SUM(total_minor) AS BIGINT), \
         CAST(SUM(COALESCE(fees_minor, 0)) AS BIGINT), \
         CAST(0 AS BIGINT), CAST(0 AS BIGINT) FROM sales \
         WHERE occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR provider \
         = $3) \
         AND (CAST($4 AS TEXT) IS NULL OR event_id IN (SELECT sale_event_id FROM sale_items \
         WHERE product_name = $4)) \
         GROUP BY currency",
    )
    .bind(from)
    .bind(to)
    .bind(provider)
    .bind(product)
    .fetch_all(pool)
    .await?;
    let refunds: Vec<MoneyRow> = sqlx::query_as(
        "SELECT currency, CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), COUNT(*), \
         CAST(SUM(amount_minor) AS BIGINT) FROM refunds \
         WHERE occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR provider \
         = $3) \
         AND (CAST($4 AS TEXT) IS NULL OR sale_event_id IN (SELECT sale_event_id FROM \
         sale_items WHERE product_name = $4)) \
         GROUP BY currency",
    )
    .bind(from)
    .bind(to)
    .bind(provider)
    .bind(product)
    .fetch_all(pool)
    .await?;
    rows.extend(refunds);
    Ok(rows)
}

pub async fn products_rollup(
    pool: &Pool,
    grain: &str,
    from: i64,
    to: i64,
    provider: Option<&str>,
) -> Result<Vec<(String, i64, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT product, CAST(SUM(orders) AS BIGINT), CAST(SUM(quantity) AS BIGINT) FROM \
         rollup_products \
         WHERE grain = $4 AND bucket >= $1 AND bucket < $2 AND (CAST($3 AS TEXT) IS NULL OR \
         provider = $3) \
         GROUP BY product",
    )
    .bind(from)
    .bind(to)
    .bind(provider)
    .bind(grain)
    .fetch_all(pool)
    .await?)
}

pub async fn products_raw(
    pool: &Pool,
    from: i64,
    to: i64,
    provider: Option<&str>,
) -> Result<Vec<(String, i64, i64)>, DbError> {
    Ok(sqlx::query_as(
        "SELECT i.product_name, COUNT(DISTINCT s.event_id), CAST(SUM(i.quantity) AS BIGINT) \
         FROM sale_items i JOIN sales s ON s.event_id = i.sale_event_id \
         WHERE s.occurred_at >= $1 AND s.occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR \
         s.provider = $3) \
         GROUP BY i.product_name",
    )
    .bind(from)
    .bind(to)
    .bind(provider)
    .fetch_all(pool)
    .await?)
}

pub async fn subscription_counts(
    pool: &Pool,
    from: i64,
    to: i64,
    provider: Option<&str>,
) -> Result<(i64, i64, i64), DbError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT kind, COUNT(*) FROM events WHERE is_test = FALSE \
         AND kind IN ('subscription_started', 'subscription_cancelled') \
         AND occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR provider = \
         $3) GROUP BY kind",
    )
    .bind(from)
    .bind(to)
    .bind(provider)
    .fetch_all(pool)
    .await?;
    let active: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM subscriptions WHERE status = 'active' AND (CAST($1 AS TEXT) IS \
         NULL OR provider = $1)",
    )
    .bind(provider)
    .fetch_one(pool)
    .await?;
    let get = |k: &str| {
        rows.iter()
            .find(|(kind, _)| kind == k)
            .map_or(0, |(_, n)| *n)
    };
    Ok((
        get("subscription_started"),
        get("subscription_cancelled"),
        active,
    ))
}

pub async fn gross_series(
    pool: &Pool,
    grain: &str,
    from: i64,
    to: i64,
    provider: Option<&str>,
    product: Option<&str>,
) -> Result<Vec<(i64, String, i64)>, DbError> {
    Ok(match product {
        None => {
            sqlx::query_as(
                "SELECT bucket, currency, CAST(SUM(gross_minor) AS BIGINT) FROM rollup_money \
             WHERE grain = $4 AND bucket >= $1 AND bucket < $2 AND (CAST($3 AS TEXT) IS NULL OR \
             provider = $3) \
             GROUP BY bucket, currency ORDER BY bucket",
            )
            .bind(from)
            .bind(to)
            .bind(provider)
            .bind(grain)
            .fetch_all(pool)
            .await?
        }
        Some(product) => {
            sqlx::query_as(
                "SELECT (occurred_at / 3600000) * 3600000, currency, CAST(SUM(total_minor) AS \
             BIGINT) FROM sales \
             WHERE occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR \
             provider = $3) \
             AND event_id IN (SELECT sale_event_id FROM sale_items WHERE product_name = $4) \
             GROUP BY 1, 2 ORDER BY 1",
            )
            .bind(from)
            .bind(to)
            .bind(provider)
            .bind(product)
            .fetch_all(pool)
            .await?
        }
    })
}

pub async fn recent(pool: &Pool, q: &RecentQuery<'_>) -> Result<(Vec<StoredEvent>, i64), DbError> {
    const FILTER: &str = "is_test = FALSE AND kind <> 'other' AND merged_into IS NULL AND \
    occurred_at >= $1 AND occurred_at < $2 \
        AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
        AND (CAST($4 AS TEXT) IS NULL OR id IN (SELECT sale_event_id FROM sale_items WHERE \
        product_name = $4) \
             OR id IN (SELECT r.event_id FROM refunds r JOIN sale_items i ON i.sale_event_id = \
             r.sale_event_id \
                       WHERE i.product_name = $4))";
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM events WHERE {FILTER}"))
        .bind(q.from)
        .bind(q.to)
        .bind(q.provider)
        .bind(q.product)
        .fetch_one(pool)
        .await?;
    let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT id, data FROM events WHERE {FILTER} ORDER BY occurred_at DESC, id DESC LIMIT $5 \
         OFFSET $6"
    ))
    .bind(q.from)
    .bind(q.to)
    .bind(q.provider)
    .bind(q.product)
    .bind(q.limit)
    .bind(q.offset)
    .fetch_all(pool)
    .await?;
    let mut events = Vec::with_capacity(rows.len());
    for (id, data) in rows {
        let event =
            serde_json::from_str(&data).map_err(|source| DbError::Corrupt { id, source })?;
        events.push(StoredEvent { id, event });
    }
    Ok((events, total))
}

pub async fn last_received(pool: &Pool) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT MAX(received_at) FROM events")
        .fetch_one(pool)
        .await?)
}

pub async fn ping(pool: &Pool) -> Result<(), DbError> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// When the earliest listed event happened (tests and unannounced kinds aside, as in
/// [`recent`]), so "all time" starts at the shop's first event rather than in 1970.
pub async fn first_event_at(pool: &Pool, provider: Option<&str>) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT MIN(occurred_at) FROM events WHERE is_test = FALSE \
         AND kind <> 'other' AND (CAST($1 AS TEXT) IS NULL OR provider = $1)",
    )
    .bind(provider)
    .fetch_one(pool)
    .await?)
}

/// Everything `/metrics` shows from the database, in one statement: totals by index where one
/// serves (the outbox by status), so a scrape costs one round trip.
pub async fn metric_counts(pool: &Pool) -> Result<MetricCounts, DbError> {
    let row: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM sales), \
         (SELECT COUNT(*) FROM refunds), \
         (SELECT COUNT(*) FROM outbox WHERE status = 'pending'), \
         (SELECT COUNT(*) FROM outbox WHERE status = 'delivered'), \
         (SELECT COUNT(*) FROM outbox WHERE status = 'preview'), \
         (SELECT COUNT(*) FROM outbox WHERE status = 'dead')",
    )
    .fetch_one(pool)
    .await?;
    let (events, sales, refunds, pending, delivered, preview, dead) = row;
    Ok(MetricCounts {
        events,
        sales,
        refunds,
        outbox: OutboxCounts {
            pending,
            delivered,
            preview,
            dead,
        },
    })
}
