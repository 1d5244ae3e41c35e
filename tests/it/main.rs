//! The one integration-test binary: every suite is a module here so they share one build.

#[path = "../support/mod.rs"]
mod support;

mod check_config;
mod cli;
mod commands;
mod config_set;
mod delivery;
mod durability;
mod exposure;
mod faults;
mod figures_privacy;
mod flood;
mod hostile;
mod intake;
mod limits;
mod payhip_legacy;
mod postgres;
mod process;
mod relay;
mod reload;
mod replies;
mod startup;
mod stats;
mod storage;
mod terminal;
mod xsolla;
mod xsolla_purchases;
