//! Everything that talks to Discord: the gateway and its slash commands, the REST client the
//! outbox posts with, and the invite link. What a notice looks like is in [`crate::notice`].

pub mod bot;
pub mod commands;
pub mod invite;
pub mod rest;
pub mod views;
