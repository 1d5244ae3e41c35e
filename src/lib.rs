//! integrations-bot: store webhooks in, Discord notices and sales stats out.
//!
//! # Crate map
//! Imports point down this list, toward [`domain`].
//!
//! - [`app`]: start-up wiring and orderly shutdown (the only place besides [`cli`] using `anyhow`).
//! - [`cli`]: the command line: `run`, `check-config`, `invite`, `simulate`, `stats`, `import-js`,
//!   `replay-rejected`.
//! - [`telemetry`]: the log subscriber and the request span (method, route, status, latency).
//! - [`serve`]: the HTTP server: connection cap, header/body/idle timeouts, bounded shutdown.
//! - [`check`]: `check-config`: every problem between the files and a posted notice, said once.
//! - [`metrics`]: `/metrics`, off the public port unless asked for.
//! - [`webhook`]: the HTTP routes, one per store, and `/healthz`.
//! - [`relay`]: passes a verified webhook on to the seller's own server first (`forwardUrl`).
//! - [`reload`]: hot reload of config.json and `/config set`, refusing changes that would
//!   silence every notice.
//! - [`discord`]: the gateway, the slash commands and the REST client.
//! - [`alerts`]: rate-limited alerts to a staff channel, posted past the outbox.
//! - [`intake`]: the one intake path of every entry point: verify, translate, route, commit, answer.
//! - [`quarantine`]: webhooks refused for their signature that look like a sale, kept apart for
//!   `replay-rejected`.
//! - [`outbox`]: durable delivery of notices and role changes: routing, the worker, leases and
//!   retries.
//! - [`digest`]: daily and weekly digests in a channel: when each is due, posting it once
//!   across restarts and instances, what it shows.
//! - [`roles`]: Discord roles for buyers: which purchase gives which roles and what takes them
//!   back (`/claim`, automatic grants, removal on refund or cancellation).
//! - [`stats`]: periods and reports for `/stats` and `integrations-bot stats`.
//! - [`import_js`]: one-off import of the earlier JavaScript bot's history.
//! - [`providers`]: one module per store: signature check and translation into [`domain`].
//! - [`bounds`]: what a stored event may hold (ranges, currencies, text without control characters).
//! - [`db`]: storage for SQLite and PostgreSQL; [`db::writer`] is the group-commit intake writer.
//! - [`config`]: config.json, the environment and secrets.
//! - [`state`]: the one shared state of axum and poise.
//! - [`clock`]: the one clock the app reads; tests drive a [`clock::ManualClock`].
//! - [`notice`]: what a notice looks like (message, embed, template, escaping, destination); pure.
//! - [`domain`]: the provider-neutral model: events, money, customers.
//!
//! # Where is …
//! - the promise "committed before 2xx": [`intake::intake`] awaits [`db::writer::Writer::insert`].
//! - a store's signature check: `parse` in its module under [`providers`].
//! - a store's config section, default path and secret variable: [`config::table::STORES`].
//! - several stores of one provider (the `stores` list): [`config::listed`], served by
//!   [`providers::listed`]; where a store's or a product's notices go: [`outbox::route`].
//! - why a notice was not sent: [`outbox::route`] (where it goes), `outbox::worker` (what happened).
//! - how a notice reads, and what a seller's template may say: [`notice::embed`], [`notice::template`].
//! - what `/stats` adds up: [`stats::report`] over the roll-ups in [`db`].

// `db/sql/` is compiled once per database backend, by design (see `db/sqlite.rs`); the lint
// is crate-wide, so it cannot be allowed on those two modules alone.
#![allow(clippy::duplicate_mod)]

pub mod alerts;
pub mod app;
pub mod bounds;
pub mod check;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod digest;
pub mod discord;
pub mod domain;
pub mod import_js;
pub mod intake;
pub mod metrics;
pub mod notice;
pub mod outbox;
pub mod providers;
pub mod quarantine;
pub mod relay;
pub mod reload;
pub mod roles;
pub mod serve;
pub mod state;
pub mod stats;
pub mod telemetry;
pub mod webhook;
