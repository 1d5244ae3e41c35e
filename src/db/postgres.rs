//! The queries in `sql/` compiled for PostgreSQL.

pub(crate) type Db = sqlx::Postgres;

#[path = "sql/mod.rs"]
mod sql;

pub(crate) use sql::*;

/// Row locks, so that two instances never claim the same notices.
pub(crate) const CLAIM_LOCK: &str = "FOR UPDATE OF o SKIP LOCKED";
