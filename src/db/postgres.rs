//! The queries in `sql/` compiled for PostgreSQL.

pub(crate) type Db = sqlx::Postgres;

#[path = "sql/mod.rs"]
mod sql;

pub(crate) use sql::*;

/// Row locks, so that two instances never claim the same notices.
pub(crate) const CLAIM_LOCK: &str = "FOR UPDATE OF o SKIP LOCKED";

/// Locks the claim rows a transaction reads before it changes them.
pub(crate) const ROW_LOCK: &str = "FOR UPDATE";

/// An ordinary transaction: `ROW_LOCK` does the locking.
pub(crate) const BEGIN_WRITE: &str = "BEGIN";
