//! The one integration-test binary: every suite is a module here so they share one build.

#[path = "../support/mod.rs"]
mod support;

mod commands;
mod delivery;
mod exactly_once;
mod faults;
mod hostile;
mod intake;
mod outbox_process;
mod outbox_steps;
mod postgres;
mod process;
mod stats;
mod storage;
mod xsolla;
