//! The one integration-test binary: every suite is a module here so they share one build.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod commands;
mod delivery;
mod durability;
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
mod payhip_legacy;
mod postgres;
mod process;
mod relay;
mod reload;
mod stats;
mod storage;
mod stripe;
mod xsolla;
mod xsolla_purchases;
