//! Storage for SQLite and PostgreSQL.
//!
//! - [`model`]: the rows taken and given. [`rollup`]: the sums `/stats` reads.
//! - `sql/`: every query, written once and compiled per backend by `sqlite.rs` and `postgres.rs`.
//! - [`writer`]: the group-commit intake writer, the one path by which webhooks are stored.
//! - The `impl Store` blocks here, in `outbox.rs` and in `reports.rs` pick the backend.
//!
//! Times are unix milliseconds, money integer minor units.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// As [`on_backend!`], for a write: on SQLite it first waits its turn at the write gate.
macro_rules! on_backend_write {
    ($store:expr, $func:ident ( $($arg:expr),* )) => {
        match $store {
            Store::Sqlite(s) => {
                let _turn = s.write_turn().await;
                crate::db::sqlite::$func(s $(, $arg)*).await
            }
            Store::Postgres(p) => crate::db::postgres::$func(p $(, $arg)*).await,
        }
    };
}

/// Calls the same-named query function on whichever backend this store is.
macro_rules! on_backend {
    ($store:expr, $func:ident ( $($arg:expr),* )) => {
        match $store {
            Store::Sqlite(p) => crate::db::sqlite::$func(p $(, $arg)*).await,
            Store::Postgres(p) => crate::db::postgres::$func(p $(, $arg)*).await,
        }
    };
}

mod claims;
mod digests;
pub mod model;
mod outbox;
mod postgres;
mod rejected;
mod reports;
pub mod rollup;
mod sqlite;
pub mod writer;

pub use claims::{Bound, ClaimRow, Finishing, NewClaim};
pub use digests::DigestRow;
pub use model::*;
pub use outbox::{Claimed, Mark, Run};
pub use rollup::{Grain, DAY_MS, HOUR_MS};

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
    Sqlite(SqliteStore),
    Postgres(PgPool),
}

/// A SQLite pool and the gate every write passes. SQLite lets one writer in at a time and makes
/// the others sleep and poll (naps of up to 100 ms) until the lock is free; queueing at this gate
/// instead, intake commits and outbox marks take turns without those naps, which otherwise show
/// as stalls of hundreds of milliseconds in webhook answers while notices are being sent.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            write_gate: std::sync::Arc::default(),
        }
    }

    /// Held for the length of one write transaction.
    pub(crate) async fn write_turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.write_gate.lock().await
    }
}

impl std::ops::Deref for SqliteStore {
    type Target = SqlitePool;

    fn deref(&self) -> &SqlitePool {
        &self.pool
    }
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
        Ok(Store::Sqlite(SqliteStore::new(pool)))
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Store::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(&**p).await?,
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

    /// Commits a batch of webhooks in one transaction (see [`writer`]).
    pub async fn insert_batch(&self, batch: &[&NewEvent]) -> Result<Vec<Inserted>, DbError> {
        Ok(self.write_round(batch, &[]).await?.0)
    }

    /// Commits a batch of webhooks and outbox marks in one transaction (see [`writer`]).
    pub async fn write_round(
        &self,
        batch: &[&NewEvent],
        marks: &[&Mark],
    ) -> Result<(Vec<Inserted>, Vec<u64>), DbError> {
        on_backend_write!(self, write_round(batch, marks))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Store::Sqlite(_))
    }
}
