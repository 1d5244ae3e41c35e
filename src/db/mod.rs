//! Storage. One set of queries, compiled for SQLite and PostgreSQL by [`backend!`]: the SQL is
//! written once in the dialect both accept (`$n` placeholders, `ON CONFLICT`, `RETURNING`).
//! Times are unix milliseconds, money integer minor units.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::domain::{Detail, Event, EventKind};

mod claims;
mod outbox;
pub mod writer;
#[macro_use]
mod purchases;

use purchases::Facts;
pub use purchases::RiskRow;

pub use claims::{Bound, ClaimRow, Finishing, NewClaim};
pub use outbox::Claimed;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored event {id} cannot be read: {source}")]
    Corrupt { id: i64, source: serde_json::Error },
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    #[error("the database writer has stopped")]
    WriterGone,
}

impl DbError {
    /// Deadlocks, serialization failures and a busy SQLite file: the same write may succeed if
    /// tried again.
    pub fn is_transient(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => {
                matches!(
                    e.code().as_deref(),
                    Some("40P01" | "40001" | "5" | "6" | "517")
                )
            }
            DbError::Sqlx(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => true,
            _ => false,
        }
    }
}

impl DbError {
    /// Caused by one row's content (a constraint, a value the database refuses), not by the
    /// database being unable to write: the next webhook is not affected.
    pub fn is_input(&self) -> bool {
        match self {
            DbError::Corrupt { .. } => true,
            DbError::Sqlx(sqlx::Error::Database(e)) => {
                let code = e.code();
                let code = code.as_deref().unwrap_or_default();
                // PostgreSQL classes 22 (data exception) and 23 (integrity); SQLite's
                // SQLITE_CONSTRAINT (19) and its extended codes (x mod 256 = 19), SQLITE_MISMATCH.
                code.starts_with("22")
                    || code.starts_with("23")
                    || code.parse::<i32>().is_ok_and(|c| c % 256 == 19 || c == 20)
            }
            _ => false,
        }
    }
}

/// A connection pool to whichever backend the URL chose.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An event ready to be written with its notices, as the intake hands it to the writer.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event: Event,
    /// The body exactly as received.
    pub raw: String,
    pub received_at: DateTime<Utc>,
    /// Where its notice goes: one outbox row each (see [`crate::outbox::Destination`]).
    pub destinations: Vec<String>,
    /// Why the event is kept for the record only (see [`crate::bounds`]): never counted.
    pub not_counted: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New { event_id: i64, notices: usize },
    Duplicate,
}

/// A stored destination for messages: a webhook URL's token is a secret, so it is cut off.
fn redacted_destination(destination: &str) -> String {
    match destination
        .strip_prefix("webhook:")
        .and_then(crate::domain::DiscordWebhook::parse)
    {
        Some(hook) => format!("webhook:{}", hook.redacted()),
        None if destination.starts_with("webhook:") => "webhook:***".to_owned(),
        None => destination.to_owned(),
    }
}

impl std::fmt::Debug for OutboxRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRow")
            .field("id", &self.id)
            .field("event_id", &self.event_id)
            .field("destination", &redacted_destination(&self.destination))
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("last_error", &self.last_error)
            .field("discord_message_id", &self.discord_message_id)
            .finish()
    }
}

#[cfg(test)]
mod redaction_tests {
    #[test]
    fn outbox_rows_do_not_show_webhook_tokens() {
        let row = super::OutboxRow {
            id: 1,
            event_id: 1,
            destination: "webhook:https://discord.com/api/webhooks/55/secret-token".into(),
            status: "dead".into(),
            attempts: 1,
            last_error: None,
            discord_message_id: None,
        };
        let text = format!("{row:?}");
        assert!(
            !text.contains("secret-token") && text.contains("webhook 55"),
            "{text}"
        );
    }
}

/// Counts of the outbox by state, for `/botinfo`, logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: i64,
    pub delivered: i64,
    pub preview: i64,
    pub dead: i64,
}

#[derive(Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub event_id: i64,
    pub destination: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub discord_message_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub events: i64,
    pub sales: i64,
    pub refunds: i64,
    pub subscriptions: i64,
    pub test_events: i64,
}

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Roll-up granularity: UTC hours, days and months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Hour,
    Day,
    Month,
}

impl Grain {
    pub fn code(self) -> &'static str {
        match self {
            Grain::Hour => "h",
            Grain::Day => "d",
            Grain::Month => "m",
        }
    }

    /// The start of the bucket holding `at` (unix ms).
    pub fn floor(self, at: i64) -> i64 {
        match self {
            Grain::Hour => at - at.rem_euclid(HOUR_MS),
            Grain::Day => at - at.rem_euclid(DAY_MS),
            Grain::Month => {
                use chrono::Datelike;
                let day = DateTime::<Utc>::from_timestamp_millis(at)
                    .unwrap_or_default()
                    .date_naive();
                let first = day.with_day(1).unwrap_or(day);
                millis(first.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
            }
        }
    }

    /// The start of the first bucket at or after `at`.
    pub fn ceil(self, at: i64) -> i64 {
        let f = self.floor(at);
        if f == at {
            return at;
        }
        match self {
            Grain::Hour => f + HOUR_MS,
            Grain::Day => f + DAY_MS,
            Grain::Month => Grain::Month.floor(f + 32 * DAY_MS),
        }
    }
}

/// Roll-up deltas of one batch, summed per bucket before they are written. Sorted, so every
/// transaction locks buckets in the same order and two instances cannot deadlock on them.
#[derive(Default)]
pub(crate) struct Rollups {
    /// (grain, bucket, provider, currency) -> [sales, gross, fees, refunds, refunded]
    money: std::collections::BTreeMap<(Grain, i64, String, String), [i64; 5]>,
    /// (grain, bucket, provider, product) -> [orders, quantity]
    products: std::collections::BTreeMap<(Grain, i64, String, String), [i64; 2]>,
}

pub(crate) const GRAINS: [Grain; 3] = [Grain::Hour, Grain::Day, Grain::Month];

impl Rollups {
    fn sale(&mut self, at: i64, provider: &str, sale: &crate::domain::Sale) {
        for grain in GRAINS {
            let key = (
                grain,
                grain.floor(at),
                provider.to_owned(),
                sale.total.currency.clone(),
            );
            let m = self.money.entry(key).or_default();
            m[0] += 1;
            m[1] = m[1].saturating_add(sale.total.minor);
            m[2] = m[2].saturating_add(sale.fees_minor.unwrap_or(0));
            for item in &sale.items {
                let key = (
                    grain,
                    grain.floor(at),
                    provider.to_owned(),
                    item.name.clone(),
                );
                let p = self.products.entry(key).or_default();
                p[0] += 1;
                p[1] = p[1].saturating_add(i64::from(item.quantity));
            }
        }
    }

    fn refund(&mut self, at: i64, provider: &str, amount: &crate::domain::Money) {
        for grain in GRAINS {
            let key = (
                grain,
                grain.floor(at),
                provider.to_owned(),
                amount.currency.clone(),
            );
            let m = self.money.entry(key).or_default();
            m[3] += 1;
            m[4] = m[4].saturating_add(amount.minor);
        }
    }
}

/// The hour, day and month buckets of a moment.
pub fn buckets(at: i64) -> [i64; 3] {
    [
        Grain::Hour.floor(at),
        Grain::Day.floor(at),
        Grain::Month.floor(at),
    ]
}

/// The start of the UTC hour holding `at`.
pub fn hour_of(at: i64) -> i64 {
    Grain::Hour.floor(at)
}

/// Per-currency sums: (currency, sales, gross, fees, refunds, refunded).
pub type MoneyRow = (String, i64, i64, i64, i64, i64);

/// A page request of recent events, newest first.
#[derive(Debug, Clone, Copy)]
pub struct RecentQuery<'a> {
    pub from: i64,
    pub to: i64,
    pub provider: Option<&'a str>,
    pub product: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub event: Event,
}

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn now_millis() -> i64 {
    millis(Utc::now())
}

impl Store {
    /// Connects (creating a SQLite file and its folder on first run) and applies migrations.
    pub async fn connect(url: &str) -> Result<Store, DbError> {
        let store = Self::connect_without_migrating(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn connect_without_migrating(url: &str) -> Result<Store, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?;
            return Ok(Store::Postgres(pool));
        }
        if !url.starts_with("sqlite:") {
            return Err(DbError::UnsupportedUrl);
        }
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged webhook survives a power cut, not only a process crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                std::fs::create_dir_all(parent).map_err(|source| DbError::Folder {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(Store::Sqlite(pool))
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Store::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Store::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "SQLite",
            Store::Postgres(_) => "PostgreSQL",
        }
    }

    pub async fn close(&self) {
        match self {
            Store::Sqlite(p) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }

    /// The SQLite file, if any, for messages to the seller.
    pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
        SqliteConnectOptions::from_str(url)
            .ok()
            .map(|o| Path::new(o.get_filename()).to_owned())
    }
}

/// Expands the same query code for each backend; `$claim_lock` is the only dialect difference
/// (PostgreSQL's row locks for claims that are safe across processes).
macro_rules! backend {
    ($module:ident, $db:ty, $variant:ident, $claim_lock:literal) => {
        pub(crate) mod $module {
            use super::*;
            type Db = $db;
            type Tx<'c> = sqlx::Transaction<'c, Db>;

            pub async fn insert(tx: &mut Tx<'_>, new: &NewEvent, rollups: &mut Rollups) -> Result<Inserted, DbError> {
                let e = &new.event;
                let data = serde_json::to_string(e).map_err(|source| DbError::Corrupt { id: 0, source })?;
                let amount = e.amount();
                let event_id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO events (provider, idempotency_key, event_type, kind, external_id, \
                     occurred_at, received_at, is_test, amount_minor, currency, data, raw, not_counted) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (provider, idempotency_key) DO NOTHING RETURNING id",
                )
                .bind(&e.provider)
                .bind(&e.idempotency_key)
                .bind(&e.event_type)
                .bind(e.kind.as_str())
                .bind(&e.external_id)
                .bind(millis(e.occurred_at))
                .bind(millis(new.received_at))
                .bind(e.test)
                .bind(amount.map(|m| m.minor))
                .bind(amount.map(|m| m.currency.as_str()))
                .bind(&data)
                .bind(&new.raw)
                .bind(&new.not_counted)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(event_id) = event_id else {
                    return Ok(Inserted::Duplicate);
                };
                let facts = if !e.test && new.not_counted.is_none() {
                    record_facts(tx, event_id, e, rollups).await?
                } else {
                    Facts::Fresh
                };
                if let Facts::Merged(held_by) = facts {
                    // One purchase, one notice: the event that holds it was announced already.
                    sqlx::query("UPDATE events SET merged_into = $1 WHERE id = $2")
                        .bind(held_by)
                        .bind(event_id)
                        .execute(&mut **tx)
                        .await?;
                    return Ok(Inserted::New { event_id, notices: 0 });
                }
                let now = millis(new.received_at);
                for destination in &new.destinations {
                    sqlx::query(
                        "INSERT INTO outbox (event_id, destination, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, $3)",
                    )
                    .bind(event_id)
                    .bind(destination)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
                }
                Ok(Inserted::New { event_id, notices: new.destinations.len() })
            }

            purchase_queries!();

            /// Writes a batch in one transaction: one fsync for many webhooks.
            pub async fn insert_batch(pool: &sqlx::Pool<Db>, batch: &[&NewEvent]) -> Result<Vec<Inserted>, DbError> {
                let mut conn = pool.acquire().await?;
                let written = write_batch(&mut conn, batch).await;
                if written.is_err() {
                    // SQLite ends a transaction by itself on a full disk or an I/O error, without
                    // sqlx knowing; handed out again, the connection's next "commit" would only
                    // release a savepoint of a transaction that never ends. A fresh connection is
                    // the one state known to be clean.
                    conn.close_on_drop();
                }
                written
            }

            async fn write_batch(conn: &mut sqlx::pool::PoolConnection<Db>, batch: &[&NewEvent]) -> Result<Vec<Inserted>, DbError> {
                use sqlx::Connection as _;
                // Rows are written in key order so that concurrent batches (several instances on
                // one PostgreSQL database) take their locks in the same order.
                let mut order: Vec<usize> = (0..batch.len()).collect();
                order.sort_by(|a, b| {
                    let (a, b) = (&batch[*a].event, &batch[*b].event);
                    (&a.provider, &a.idempotency_key).cmp(&(&b.provider, &b.idempotency_key))
                });
                let mut tx = conn.begin().await?;
                let mut out = vec![Inserted::Duplicate; batch.len()];
                let mut rollups = Rollups::default();
                for i in order {
                    out[i] = insert(&mut tx, batch[i], &mut rollups).await?;
                }
                // One upsert per bucket touched by the batch, not per event.
                for ((grain, bucket, provider, currency), [sales, gross, fees, refunds, refunded]) in &rollups.money {
                    sqlx::query(
                        "INSERT INTO rollup_money (grain, bucket, provider, currency, sales, gross_minor, fees_minor, \
                         refunds, refund_minor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (grain, bucket, provider, currency) DO UPDATE SET \
                         sales = rollup_money.sales + excluded.sales, \
                         gross_minor = CASE WHEN rollup_money.gross_minor > 1000000000000000 - excluded.gross_minor THEN 1000000000000000 \
                         ELSE rollup_money.gross_minor + excluded.gross_minor END, \
                         fees_minor = CASE WHEN rollup_money.fees_minor > 1000000000000000 - excluded.fees_minor THEN 1000000000000000 \
                         ELSE rollup_money.fees_minor + excluded.fees_minor END, \
                         refunds = rollup_money.refunds + excluded.refunds, \
                         refund_minor = CASE WHEN rollup_money.refund_minor > 1000000000000000 - excluded.refund_minor THEN 1000000000000000 \
                         ELSE rollup_money.refund_minor + excluded.refund_minor END",
                    )
                    .bind(grain.code())
                    .bind(bucket)
                    .bind(provider)
                    .bind(currency)
                    .bind(sales)
                    .bind(gross)
                    .bind(fees)
                    .bind(refunds)
                    .bind(refunded)
                    .execute(&mut *tx)
                    .await?;
                }
                for ((grain, bucket, provider, product), [orders, quantity]) in &rollups.products {
                    sqlx::query(
                        "INSERT INTO rollup_products (grain, bucket, provider, product, orders, quantity) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (grain, bucket, provider, product) DO UPDATE SET \
                         orders = rollup_products.orders + excluded.orders, \
                         quantity = rollup_products.quantity + excluded.quantity",
                    )
                    .bind(grain.code())
                    .bind(bucket)
                    .bind(provider)
                    .bind(product)
                    .bind(orders)
                    .bind(quantity)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(out)
            }

            pub async fn outbox_counts(pool: &sqlx::Pool<Db>) -> Result<OutboxCounts, DbError> {
                let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
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

            pub async fn outbox_rows(pool: &sqlx::Pool<Db>) -> Result<Vec<OutboxRow>, DbError> {
                Ok(sqlx::query_as(
                    "SELECT id, event_id, destination, status, attempts, last_error, discord_message_id \
                     FROM outbox ORDER BY id",
                )
                .fetch_all(pool)
                .await?)
            }

            pub async fn table_counts(pool: &sqlx::Pool<Db>) -> Result<TableCounts, DbError> {
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

            pub async fn money_rollup(pool: &sqlx::Pool<Db>, grain: &str, from: i64, to: i64, provider: Option<&str>) -> Result<Vec<MoneyRow>, DbError> {
                Ok(sqlx::query_as(
                    "SELECT currency, CAST(SUM(sales) AS BIGINT), CAST(SUM(gross_minor) AS BIGINT), \
                     CAST(SUM(fees_minor) AS BIGINT), CAST(SUM(refunds) AS BIGINT), CAST(SUM(refund_minor) AS BIGINT) \
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

            pub async fn money_raw(pool: &sqlx::Pool<Db>, from: i64, to: i64, provider: Option<&str>, product: Option<&str>) -> Result<Vec<MoneyRow>, DbError> {
                let mut rows: Vec<MoneyRow> = sqlx::query_as(
                    "SELECT currency, COUNT(*), CAST(SUM(total_minor) AS BIGINT), CAST(SUM(COALESCE(fees_minor, 0)) AS BIGINT), \
                     CAST(0 AS BIGINT), CAST(0 AS BIGINT) FROM sales \
                     WHERE occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
                     AND (CAST($4 AS TEXT) IS NULL OR event_id IN (SELECT sale_event_id FROM sale_items WHERE product_name = $4)) \
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
                     WHERE occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
                     AND (CAST($4 AS TEXT) IS NULL OR sale_event_id IN (SELECT sale_event_id FROM sale_items WHERE product_name = $4)) \
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

            pub async fn products_rollup(pool: &sqlx::Pool<Db>, grain: &str, from: i64, to: i64, provider: Option<&str>) -> Result<Vec<(String, i64, i64)>, DbError> {
                Ok(sqlx::query_as(
                    "SELECT product, CAST(SUM(orders) AS BIGINT), CAST(SUM(quantity) AS BIGINT) FROM rollup_products \
                     WHERE grain = $4 AND bucket >= $1 AND bucket < $2 AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
                     GROUP BY product",
                )
                .bind(from)
                .bind(to)
                .bind(provider)
                .bind(grain)
                .fetch_all(pool)
                .await?)
            }

            pub async fn products_raw(pool: &sqlx::Pool<Db>, from: i64, to: i64, provider: Option<&str>) -> Result<Vec<(String, i64, i64)>, DbError> {
                Ok(sqlx::query_as(
                    "SELECT i.product_name, COUNT(DISTINCT s.event_id), CAST(SUM(i.quantity) AS BIGINT) \
                     FROM sale_items i JOIN sales s ON s.event_id = i.sale_event_id \
                     WHERE s.occurred_at >= $1 AND s.occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR s.provider = $3) \
                     GROUP BY i.product_name",
                )
                .bind(from)
                .bind(to)
                .bind(provider)
                .fetch_all(pool)
                .await?)
            }

            pub async fn subscription_counts(pool: &sqlx::Pool<Db>, from: i64, to: i64, provider: Option<&str>) -> Result<(i64, i64, i64), DbError> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT kind, COUNT(*) FROM events WHERE is_test = FALSE \
                     AND kind IN ('subscription_started', 'subscription_cancelled') \
                     AND occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR provider = $3) GROUP BY kind",
                )
                .bind(from)
                .bind(to)
                .bind(provider)
                .fetch_all(pool)
                .await?;
                let active: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM subscriptions WHERE status = 'active' AND (CAST($1 AS TEXT) IS NULL OR provider = $1)",
                )
                .bind(provider)
                .fetch_one(pool)
                .await?;
                let get = |k: &str| rows.iter().find(|(kind, _)| kind == k).map_or(0, |(_, n)| *n);
                Ok((get("subscription_started"), get("subscription_cancelled"), active))
            }

            pub async fn gross_series(pool: &sqlx::Pool<Db>, grain: &str, from: i64, to: i64, provider: Option<&str>, product: Option<&str>) -> Result<Vec<(i64, String, i64)>, DbError> {
                Ok(match product {
                    None => sqlx::query_as(
                        "SELECT bucket, currency, CAST(SUM(gross_minor) AS BIGINT) FROM rollup_money \
                         WHERE grain = $4 AND bucket >= $1 AND bucket < $2 AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
                         GROUP BY bucket, currency ORDER BY bucket",
                    )
                    .bind(from)
                    .bind(to)
                    .bind(provider)
                    .bind(grain)
                    .fetch_all(pool)
                    .await?,
                    Some(product) => sqlx::query_as(
                        "SELECT (occurred_at / 3600000) * 3600000, currency, CAST(SUM(total_minor) AS BIGINT) FROM sales \
                         WHERE occurred_at >= $1 AND occurred_at < $2 AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
                         AND event_id IN (SELECT sale_event_id FROM sale_items WHERE product_name = $4) \
                         GROUP BY 1, 2 ORDER BY 1",
                    )
                    .bind(from)
                    .bind(to)
                    .bind(provider)
                    .bind(product)
                    .fetch_all(pool)
                    .await?,
                })
            }

            pub async fn recent(pool: &sqlx::Pool<Db>, q: &RecentQuery<'_>) -> Result<(Vec<StoredEvent>, i64), DbError> {
                const FILTER: &str = "is_test = FALSE AND kind <> 'other' AND merged_into IS NULL AND occurred_at >= $1 AND occurred_at < $2 \
                    AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
                    AND (CAST($4 AS TEXT) IS NULL OR id IN (SELECT sale_event_id FROM sale_items WHERE product_name = $4) \
                         OR id IN (SELECT r.event_id FROM refunds r JOIN sale_items i ON i.sale_event_id = r.sale_event_id \
                                   WHERE i.product_name = $4))";
                let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM events WHERE {FILTER}"))
                    .bind(q.from)
                    .bind(q.to)
                    .bind(q.provider)
                    .bind(q.product)
                    .fetch_one(pool)
                    .await?;
                let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
                    "SELECT id, data FROM events WHERE {FILTER} ORDER BY occurred_at DESC, id DESC LIMIT $5 OFFSET $6"
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
                    let event = serde_json::from_str(&data).map_err(|source| DbError::Corrupt { id, source })?;
                    events.push(StoredEvent { id, event });
                }
                Ok((events, total))
            }

            pub async fn last_received(pool: &sqlx::Pool<Db>) -> Result<Option<i64>, DbError> {
                Ok(sqlx::query_scalar("SELECT MAX(received_at) FROM events").fetch_one(pool).await?)
            }

            pub async fn ping(pool: &sqlx::Pool<Db>) -> Result<(), DbError> {
                sqlx::query("SELECT 1").execute(pool).await?;
                Ok(())
            }
        }
    };
}

backend!(sqlite_q, sqlx::Sqlite, Sqlite, "");
backend!(pg_q, sqlx::Postgres, Postgres, "FOR UPDATE SKIP LOCKED");

/// Calls the same-named query function on whichever backend this store is.
macro_rules! on_backend {
    ($store:expr, $func:ident ( $($arg:expr),* )) => {
        match $store {
            Store::Sqlite(p) => sqlite_q::$func(p $(, $arg)*).await,
            Store::Postgres(p) => pg_q::$func(p $(, $arg)*).await,
        }
    };
}

impl Store {
    pub async fn insert_batch(&self, batch: &[&NewEvent]) -> Result<Vec<Inserted>, DbError> {
        on_backend!(self, insert_batch(batch))
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts, DbError> {
        on_backend!(self, outbox_counts())
    }

    pub async fn outbox_rows(&self) -> Result<Vec<OutboxRow>, DbError> {
        on_backend!(self, outbox_rows())
    }

    pub async fn table_counts(&self) -> Result<TableCounts, DbError> {
        on_backend!(self, table_counts())
    }

    /// Sums over roll-up buckets of `grain` starting in `[from, to)`.
    pub async fn money_rollup(
        &self,
        grain: Grain,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<Vec<MoneyRow>, DbError> {
        on_backend!(self, money_rollup(grain.code(), from, to, provider))
    }

    pub async fn money_raw(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
        product: Option<&str>,
    ) -> Result<Vec<MoneyRow>, DbError> {
        on_backend!(self, money_raw(from, to, provider, product))
    }

    pub async fn products_rollup(
        &self,
        grain: Grain,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<Vec<(String, i64, i64)>, DbError> {
        on_backend!(self, products_rollup(grain.code(), from, to, provider))
    }

    pub async fn products_raw(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<Vec<(String, i64, i64)>, DbError> {
        on_backend!(self, products_raw(from, to, provider))
    }

    /// (started in range, cancelled in range, active now).
    pub async fn subscription_counts(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<(i64, i64, i64), DbError> {
        on_backend!(self, subscription_counts(from, to, provider))
    }

    /// (bucket start, currency, gross) for charts from `grain` buckets; hourly from the raw
    /// rows when filtering by product, which has no roll-up.
    pub async fn gross_series(
        &self,
        grain: Grain,
        from: i64,
        to: i64,
        provider: Option<&str>,
        product: Option<&str>,
    ) -> Result<Vec<(i64, String, i64)>, DbError> {
        on_backend!(
            self,
            gross_series(grain.code(), from, to, provider, product)
        )
    }

    /// Refunds flagged as chargebacks or fraud in `[from, to)`, per currency and flag.
    pub async fn risk_counts(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
        product: Option<&str>,
    ) -> Result<Vec<RiskRow>, DbError> {
        on_backend!(self, risk_counts(from, to, provider, product))
    }

    /// A page of events and the total matching.
    pub async fn recent(&self, q: &RecentQuery<'_>) -> Result<(Vec<StoredEvent>, i64), DbError> {
        on_backend!(self, recent(q))
    }

    pub async fn last_received(&self) -> Result<Option<i64>, DbError> {
        on_backend!(self, last_received())
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        on_backend!(self, ping())
    }

    /// When the earliest listed event happened (tests and unannounced kinds aside, as in
    /// [`Store::recent`]), so "all time" starts at the shop's first event rather than in 1970.
    pub async fn first_event_at(&self, provider: Option<&str>) -> Result<Option<i64>, DbError> {
        const FIRST: &str = "SELECT MIN(occurred_at) FROM events WHERE is_test = FALSE \
            AND kind <> 'other' AND (CAST($1 AS TEXT) IS NULL OR provider = $1)";
        Ok(match self {
            Store::Sqlite(p) => {
                sqlx::query_scalar(FIRST)
                    .bind(provider)
                    .fetch_one(p)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_scalar(FIRST)
                    .bind(provider)
                    .fetch_one(p)
                    .await?
            }
        })
    }
}
