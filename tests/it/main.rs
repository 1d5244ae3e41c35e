//! The one integration-test binary: every suite is a module here so they share one build.

#[path = "../support/mod.rs"]
mod support;

mod commands;
mod delivery;
mod durability;
mod faults;
mod hostile;
mod intake;
mod payhip_legacy;
mod postgres;
mod process;
mod relay;
mod stats;
mod storage;
mod xsolla;
mod xsolla_purchases;
