//! The SQL, written once in the dialect both backends accept (`$n` placeholders, `ON CONFLICT`,
//! `RETURNING`, `UPDATE … FROM`) and compiled once per backend: `db/sqlite.rs` and
//! `db/postgres.rs` each include this folder with their own `Db`. Plain modules rather than a
//! macro, so the compiler, rustfmt and clippy read every line. Times are unix milliseconds, money
//! integer minor units.

mod claims;
mod claims_lookup;
mod digests;
mod events;
mod outbox;
mod purchases;
mod rejected;
mod reports;

pub(crate) use claims::*;
pub(crate) use claims_lookup::*;
pub(crate) use digests::*;
pub(crate) use events::write_round;
pub(crate) use outbox::*;
pub(crate) use purchases::risk_counts;
pub(crate) use rejected::*;
pub(crate) use reports::*;

use super::Db;
type Pool = sqlx::Pool<Db>;
type Tx<'c> = sqlx::Transaction<'c, Db>;
