//! Everything Discord: the message shapes and embeds (pure), templates, and the REST client the
//! outbox posts with.

pub mod embed;
pub mod message;
pub mod rest;
pub mod template;
