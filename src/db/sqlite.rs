//! The queries in `sql/` compiled for SQLite.

pub(crate) type Db = sqlx::Sqlite;

#[path = "sql/mod.rs"]
mod sql;

pub(crate) use sql::*;
