//! The one integration-test binary: every suite is a module here so they share one build.

#[path = "../support/mod.rs"]
mod support;

mod cli;
mod commands;
mod delivery;
mod durability;
mod faults;
mod figures_privacy;
mod hostile;
mod intake;
mod postgres;
mod process;
mod replies;
mod stats;
mod storage;
mod terminal;
mod xsolla;
