//! The queries in `sql/` compiled for SQLite.

pub(crate) type Db = sqlx::Sqlite;

#[path = "sql/mod.rs"]
mod sql;

pub(crate) use sql::*;

/// SQLite has one writer at a time, so a claim needs no row locks.
pub(crate) const CLAIM_LOCK: &str = "";

/// Locks the claim rows a transaction reads before it changes them.
pub(crate) const ROW_LOCK: &str = "";

/// IMMEDIATE takes the write lock first, so a transaction that reads before it writes waits
/// for a concurrent writer instead of failing on a stale snapshot.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
