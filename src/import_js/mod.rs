//! `import-js`: brings the history of the earlier JavaScript bot (its better-sqlite3 `sales.db`)
//! into this bot's database once, so `/stats` covers the months before the switch.
//!
//! The old data is lossy and this module says so rather than guessing silently: amounts were
//! floats in major units (rounded here to the currency's minor unit), the currency column may be
//! empty (the old bot showed `$` whatever it was; such rows are imported as USD and counted in the
//! report), and only the newest 200 records were ever kept. Imported events are never announced.

use std::str::FromStr;

use chrono::Utc;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::Row;

use crate::db::{DbError, Inserted, NewEvent, Store};

mod rows;

pub use rows::{parse_date, product_names, sale_event, subscription_event, OldSale};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot open the JavaScript bot's database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot read the JavaScript bot's database: {0}")]
    Read(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] DbError),
}

/// What an import did, for the seller.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Imported {
    pub new: usize,
    pub already_there: usize,
    /// Rows left out, each with its reason.
    pub skipped: Vec<String>,
    /// Rows imported with an assumed currency.
    pub assumed_usd: usize,
}

/// Reads the old database read-only and writes what it holds; running it again adds nothing.
pub async fn import(old_db: &std::path::Path, store: &Store) -> Result<Imported, ImportError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", old_db.display()))
        .map_err(|source| ImportError::Open {
            path: old_db.display().to_string(),
            source,
        })?
        .read_only(true);
    let pool = SqlitePool::connect_with(options)
        .await
        .map_err(|source| ImportError::Open {
            path: old_db.display().to_string(),
            source,
        })?;
    let mut report = Imported::default();
    let mut events = Vec::new();
    if has_table(&pool, "sales").await? {
        for row in sqlx::query("SELECT * FROM sales").fetch_all(&pool).await? {
            let old = OldSale {
                id: text(&row, "id"),
                kind: text(&row, "type"),
                products: text(&row, "products"),
                amount: real(&row, "amount"),
                currency: text(&row, "currency"),
                customer: text(&row, "customer"),
                date: text(&row, "date"),
                coupon: text(&row, "coupon"),
                original_date: text(&row, "originalDate"),
            };
            match sale_event(&old) {
                Ok((event, assumed)) => {
                    report.assumed_usd += usize::from(assumed);
                    events.push(event);
                }
                Err(why) => report.skipped.push(format!("sale {:?}: {why}", old.id)),
            }
        }
    }
    if has_table(&pool, "subscriptions").await? {
        for row in sqlx::query("SELECT * FROM subscriptions")
            .fetch_all(&pool)
            .await?
        {
            let id = text(&row, "id");
            match subscription_event(
                &id,
                &text(&row, "type"),
                &text(&row, "product"),
                &text(&row, "plan"),
                &text(&row, "customer"),
                &text(&row, "date"),
            ) {
                Ok(event) => events.push(event),
                Err(why) => report.skipped.push(format!("subscription {id:?}: {why}")),
            }
        }
    }
    pool.close().await;
    let received_at = Utc::now();
    for chunk in events.chunks(200) {
        let batch: Vec<NewEvent> = chunk
            .iter()
            .map(|event| NewEvent {
                raw: serde_json::to_string(event).unwrap_or_default(),
                received_at,
                destinations: Vec::new(),
                not_counted: None,
                event: event.clone(),
            })
            .collect();
        let refs: Vec<&NewEvent> = batch.iter().collect();
        for inserted in store.insert_batch(&refs).await? {
            match inserted {
                Inserted::New { .. } => report.new += 1,
                Inserted::Duplicate => report.already_there += 1,
            }
        }
    }
    Ok(report)
}

async fn has_table(pool: &SqlitePool, name: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// Any column as text: the old bot was not strict about types.
fn text(row: &sqlx::sqlite::SqliteRow, column: &str) -> String {
    if let Ok(Some(s)) = row.try_get::<Option<String>, _>(column) {
        return s;
    }
    if let Ok(Some(n)) = row.try_get::<Option<i64>, _>(column) {
        return n.to_string();
    }
    if let Ok(Some(f)) = row.try_get::<Option<f64>, _>(column) {
        return f.to_string();
    }
    String::new()
}

fn real(row: &sqlx::sqlite::SqliteRow, column: &str) -> Option<f64> {
    if let Ok(Some(f)) = row.try_get::<Option<f64>, _>(column) {
        return Some(f);
    }
    text(row, column).trim().parse().ok()
}
