//! The queries in `sql/` compiled for PostgreSQL.

pub(crate) type Db = sqlx::Postgres;

#[path = "sql/mod.rs"]
mod sql;

pub(crate) use sql::*;
