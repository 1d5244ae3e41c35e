//! Digests: a summary of the last day or week posted to a channel at a local time (`digests` in
//! config.json). [`Scheduler::run_due`] is one step: the loop calls it every half minute and
//! tests call it with the time they choose.
//!
//! Exactly once: each digest and period has one row in `digests` (its key, e.g.
//! `day:<channel>:2026-12-07`). An instance posts only after taking that row (a new row, or one
//! whose lease ran out before it was marked), and marks it posted under its own attempt number.
//! The one window left is a crash (or a lost answer) between Discord's creating the message and
//! the mark: the row's lease then passes and the next claim posts again with the same nonce,
//! which Discord answers with the first message instead of a second one as long as the retry
//! comes within its nonce memory (a few minutes; the lease is two).
//!
//! Late: only the latest period of each digest is looked at, so after days offline one digest
//! goes out (the last period), marked late, not one per missed day. A digest seen for the first
//! time well after its time waits for its next period rather than posting a late one at once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::config::digests::Digest;
use crate::db::{millis, DbError};
use crate::discord::rest::{DiscordRest, PostError, Target};
use crate::state::AppState;
use crate::stats::{self, Filter};

pub mod render;
pub mod schedule;

use schedule::Due;

/// How often the loop looks for a due digest.
pub const TICK: Duration = Duration::from_secs(30);
/// How long one instance holds a period while it builds and posts it. Longer than a request's
/// timeout, shorter than Discord's memory of nonces.
pub const LEASE: Duration = Duration::from_secs(120);
/// Posted later than this after its time, a digest says it is late.
pub const LATE_AFTER: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Post(#[from] PostError),
}

/// A digest this step posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub key: String,
    pub late: bool,
    pub message_id: Option<String>,
}

pub struct Scheduler {
    state: AppState,
    rest: DiscordRest,
}

impl Scheduler {
    pub fn new(state: AppState, rest: DiscordRest) -> Self {
        Self { state, rest }
    }

    /// Steps every [`TICK`] until `stop`, reading the config afresh each time (hot reload).
    pub async fn run(self, stop: CancellationToken) {
        loop {
            // Errors are logged per digest in the step; the next tick tries again.
            let _ = self.run_due(self.state.clock().now()).await;
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(TICK) => {}
            }
        }
    }

    /// Posts every digest whose latest period is due at `now` and not yet posted by any instance.
    /// Returns what this call posted, or the first error (each digest is still tried).
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<Vec<Sent>, DigestError> {
        let config = self.state.config();
        let tz = config.discord_config.tz();
        let mut sent = Vec::new();
        let mut first_error = None;
        for digest in &config.digests {
            let Some(channel) = digest.channel_id else {
                continue;
            };
            let due = schedule::latest_due(digest, channel, now, tz);
            match self.post_once(digest, &due, now, tz).await {
                Ok(Some(s)) => sent.push(s),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(digest = %due.key, "digest not posted: {e}");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(sent),
        }
    }

    async fn post_once(
        &self,
        digest: &Digest,
        due: &Due,
        now: DateTime<Utc>,
        tz: chrono_tz::Tz,
    ) -> Result<Option<Sent>, DigestError> {
        let store = self.state.store();
        let now_ms = millis(now);
        let late = now - due.due_at > LATE_AFTER;
        if late && !store.digest_schedule_known(&due.schedule).await? {
            store.digest_skip(&due.key, &due.schedule, now_ms).await?;
            tracing::info!(
                "digest {} to channel {}: set up after its time, so the first is the next one",
                digest.describe(),
                digest.channel_id.unwrap_or_default()
            );
            return Ok(None);
        }
        let lease_until = now_ms + i64::try_from(LEASE.as_millis()).unwrap_or(120_000);
        let Some(attempt) = store
            .digest_claim(&due.key, &due.schedule, now_ms, lease_until)
            .await?
        else {
            return Ok(None);
        };
        let report = stats::report(store, &due.period(tz), &Filter::default(), tz).await?;
        let message = render::message(&report, due, late.then_some(due.due_at), tz);
        let chart = stats::chart::render(&report).unwrap_or_else(|e| {
            tracing::warn!(digest = %due.key, "digest posted without its chart: {e}");
            None
        });
        let channel = digest.channel_id.unwrap_or_default();
        let posted = match chart {
            Some(png) => {
                self.rest
                    .post_with_image(channel, &message, render::CHART_FILE, &png)
                    .await
            }
            None => self.rest.post(Target::Channel(channel), &message).await,
        };
        let finished_at = millis(self.state.clock().now());
        match posted {
            Ok(p) => {
                let id = p.message_id.as_deref();
                store
                    .digest_finish(&due.key, attempt, "posted", late, id, finished_at)
                    .await?;
                tracing::info!(digest = %due.key, late, "digest posted");
                Ok(Some(Sent {
                    key: due.key.clone(),
                    late,
                    message_id: p.message_id,
                }))
            }
            Err(e) => {
                // Refused (no access to the channel, …): the same request would be refused again.
                if !e.is_transient() {
                    let destination = crate::notice::destination::Destination::Channel(channel);
                    self.state.alert_post_refused(&e, &destination);
                    store
                        .digest_finish(&due.key, attempt, "failed", late, None, finished_at)
                        .await?;
                }
                Err(e.into())
            }
        }
    }
}
