//! The queries in `sql/` compiled for SQLite.

pub(crate) type Db = sqlx::Sqlite;

#[path = "sql/mod.rs"]
mod sql;

pub(crate) use sql::*;

/// SQLite has one writer at a time, so a claim needs no row locks.
pub(crate) const CLAIM_LOCK: &str = "";
