//! integrations-bot: store webhooks in, Discord notices and sales stats out.
//!
//! Dependencies point toward [`domain`]: providers translate into it, [`db`] stores it, the
//! [`outbox`] announces it, [`webhook`] and [`app`] wire it together. [`config`] reads the
//! seller's files; [`check`] is `check-config`; [`reload`] applies changes while the bot runs.

pub mod app;
pub mod bounds;
pub mod check;
pub mod cli;
pub mod config;
pub mod db;
pub mod discord;
pub mod domain;
pub mod import_js;
pub mod metrics;
pub mod outbox;
pub mod providers;
pub mod reload;
pub mod serve;
pub mod state;
pub mod stats;
pub mod webhook;
