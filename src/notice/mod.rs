//! What a notice looks like, apart from who posts it: pure functions of a [`crate::domain`] event,
//! so the outbox, `simulate` and `check-config` render the same message and nothing here can fail
//! on the network.
//!
//! - [`batch`]: several notices for one place as one message, or a summary past a backlog;
//! - [`message`]: the JSON shapes Discord takes, and their limits;
//! - [`embed`]: an event as an embed, in the seller's style;
//! - [`public`]: the public-feed variant, the product without its amount or its buyer;
//! - [`template`]: the seller's own `%placeholder%` text;
//! - [`escape`]: store text shown as written, never as markdown, a link or a mention;
//! - [`destination`]: a channel or a webhook URL, never shown with its token.

pub mod batch;
pub mod destination;
pub mod embed;
pub mod escape;
#[cfg(test)]
mod inert_tests;
pub mod message;
pub mod public;
pub mod template;
