//! Everything Discord: the message shapes and embeds (pure), templates, and the REST client the
//! outbox posts with.

pub mod bot;
pub mod commands;
pub mod embed;
pub mod escape;
#[cfg(test)]
mod inert_tests;
pub mod invite;
pub mod message;
pub mod rest;
pub mod template;
pub mod views;
