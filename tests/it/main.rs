//! The one integration-test binary: every suite is a module here so they share one build.

#[path = "../support/mod.rs"]
mod support;

mod alerts;
mod check_config;
mod cli;
mod coalesce;
mod commands;
mod config_set;
mod delivery;
mod digests;
mod durability;
mod exactly_once;
mod exposure;
mod faults;
mod figures_privacy;
mod flood;
mod gumroad;
mod hostile;
mod hostile_stores;
mod intake;
mod kofi;
mod lemonsqueezy;
mod limits;
mod outbox_process;
mod outbox_steps;
mod payhip_legacy;
mod postgres;
mod process;
mod quarantine;
mod relay;
mod reload;
mod replies;
mod roles;
mod roles_revoke;
mod startup;
mod stats;
mod storage;
mod stores;
mod stores_commands;
mod stores_public;
mod stripe;
mod terminal;
mod xsolla;
mod xsolla_purchases;
