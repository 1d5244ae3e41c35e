//! The delivery loop. Woken by intake commits (no polling delay on the happy path), by the
//! earliest retry or lease expiry, and by a finished batch. Each claim holds a short lease that is
//! renewed while its batch is posted; several batches run at once, so one slow or rate-limited
//! destination never holds up the others. A row only leaves `pending` once Discord has it, or once
//! it is dead-lettered with a logged reason.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::policy::{self, Policy};
use crate::db::{Claimed, DbError};
use crate::discord::rest::{DiscordRest, TokenCheck};
use crate::state::AppState;

/// Rows per claim: enough for a summary of a busy minute, or 25 packed messages.
const BATCH: i64 = 250;
/// Batches in flight at once; a further claim waits for one to finish.
const MAX_BATCHES: usize = 4;
/// Upper bound on an idle sleep: a safety net for rows written by another instance.
const IDLE_MS: i64 = 30_000;
/// Lower bound between two claims that found nothing although something looked due (another
/// instance was claiming it at that moment), so the loop never spins.
const MIN_WAIT_MS: i64 = 50;

/// Cheap to clone: batches run on spawned tasks that share it.
#[derive(Clone)]
pub struct Worker {
    inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) state: AppState,
    pub(super) rest: DiscordRest,
    /// Per destination: not before this time (unix ms); Discord said its bucket is empty.
    pub(super) paced: Mutex<HashMap<String, i64>>,
    /// Webhook id → the channel it posts in, once looked up.
    pub(super) channels: Mutex<HashMap<u64, u64>>,
    /// Tells this process's claims apart from other instances'.
    instance: String,
    claims: AtomicU64,
}

/// A claimed batch: its rows belong to `token` until they are finished or released.
pub(super) struct Batch {
    token: String,
    rows: Vec<Claimed>,
}

impl Worker {
    /// A worker on the state's clock: a test that drives that clock drives retries and leases.
    pub fn new(state: AppState, rest: DiscordRest) -> Self {
        Self {
            inner: Arc::new(Inner {
                state,
                rest,
                paced: Mutex::new(HashMap::new()),
                channels: Mutex::new(HashMap::new()),
                instance: format!("{:016x}", rand::thread_rng().gen::<u64>()),
                claims: AtomicU64::new(0),
            }),
        }
    }

    pub fn preview(&self) -> bool {
        !self.inner.rest.has_token()
    }

    /// One step: claims what is due now and delivers it, returning how many notices it claimed.
    /// The loop does the same on spawned tasks; tests call this with a driven clock.
    pub async fn try_execute_batch(&self) -> Result<usize, DbError> {
        let Some(batch) = self.inner.claim().await? else {
            return Ok(0);
        };
        let n = batch.rows.len();
        Arc::clone(&self.inner)
            .execute(batch, CancellationToken::new())
            .await;
        Ok(n)
    }

    pub async fn run(self, stop: CancellationToken) {
        self.inner.start_up().await;
        let wakeup = Arc::clone(self.inner.state.outbox_wakeup());
        let mut batches = tokio::task::JoinSet::new();
        // A database that refuses writes (full disk) refuses every claim: back off, so the loop
        // neither spins nor floods the log while it lasts.
        let mut claim_failures: u32 = 0;
        while !stop.is_cancelled() {
            while batches.len() < MAX_BATCHES {
                match self.inner.claim().await {
                    Ok(Some(batch)) => {
                        claim_failures = 0;
                        let inner = Arc::clone(&self.inner);
                        batches.spawn(inner.execute(batch, stop.clone()));
                    }
                    Ok(None) => {
                        claim_failures = 0;
                        break;
                    }
                    Err(e) => {
                        if claim_failures == 0 {
                            tracing::error!(
                                "outbox: cannot claim notices, retrying with backoff: {e}"
                            );
                        }
                        claim_failures = claim_failures.saturating_add(1);
                        break;
                    }
                }
            }
            let wait = if claim_failures > 0 {
                (1_000_i64 << claim_failures.min(5)).min(IDLE_MS)
            } else if batches.len() >= MAX_BATCHES {
                IDLE_MS
            } else {
                match self.inner.state.store().next_due().await {
                    Ok(Some(at)) => {
                        (at - self.inner.state.clock().now_ms()).clamp(MIN_WAIT_MS, IDLE_MS)
                    }
                    Ok(None) => IDLE_MS,
                    Err(e) => {
                        tracing::error!("outbox: {e}");
                        1_000
                    }
                }
            };
            tokio::select! {
                () = wakeup.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())) => {}
                Some(_) = batches.join_next(), if !batches.is_empty() => {}
                () = stop.cancelled() => {}
            }
        }
        // Each batch finishes the post in flight and gives back the rest for the next start.
        while batches.join_next().await.is_some() {}
    }
}

impl Inner {
    pub(super) fn policy(&self) -> Policy {
        Policy::from_config(&self.state.config().delivery)
    }

    async fn start_up(&self) {
        let config = self.state.config();
        let warnings = [
            policy::lease_warning(&config.delivery),
            self.policy().budget_warning(),
        ];
        for warning in warnings.into_iter().flatten() {
            tracing::warn!("{warning}");
        }
        let rest = self.rest.clone();
        tokio::spawn(async move {
            match rest.check_token().await {
                Some(TokenCheck::Refused) => tracing::error!(
                    "Discord refuses the bot token (DISCORD_TOKEN, 401 Unauthorized): channel notices wait and slash commands are off until it is replaced (Discord Developer Portal > your application > Bot > Reset Token)"
                ),
                Some(TokenCheck::Accepted { username }) => {
                    tracing::info!("Discord accepts the bot token (bot user {username})")
                }
                Some(TokenCheck::Unknown(e)) => {
                    tracing::warn!("could not check the bot token with Discord: {e}")
                }
                None => {}
            }
        });
        match self.state.store().release_stale_leases().await {
            Ok(n) if n > 0 => {
                tracing::info!("{n} notice(s) interrupted by the last shutdown will be sent again")
            }
            Ok(_) => {}
            Err(e) => tracing::error!("cannot release stale outbox leases: {e}"),
        }
    }

    async fn claim(&self) -> Result<Option<Batch>, DbError> {
        let token = format!(
            "{}-{}",
            self.instance,
            self.claims.fetch_add(1, Ordering::Relaxed)
        );
        let now = self.state.clock().now_ms();
        let rows = self
            .state
            .store()
            .claim_due(&token, now, now + self.policy().lease_ms, BATCH)
            .await?;
        Ok((!rows.is_empty()).then_some(Batch { token, rows }))
    }

    /// Posts a batch, destinations in parallel and each one in order, renewing its lease until
    /// the last post has its outcome recorded; then gives back whatever was not tried.
    async fn execute(self: Arc<Self>, batch: Batch, stop: CancellationToken) {
        let Batch { token, rows } = batch;
        let renewing = CancellationToken::new();
        let renewer = tokio::spawn(renew(Arc::clone(&self), token.clone(), renewing.clone()));
        let mut queues: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
        for row in rows {
            queues.entry(row.destination.clone()).or_default().push(row);
        }
        let drains = queues
            .into_values()
            .map(|rows| self.drain(&token, rows, &stop));
        futures_util::future::join_all(drains).await;
        renewing.cancel();
        let _ = renewer.await;
        if let Err(e) = self.state.store().release_claim(&token).await {
            tracing::error!("outbox: cannot give back unsent notices (they are taken again when their lease runs out): {e}");
        }
    }

    async fn drain(&self, token: &str, rows: Vec<Claimed>, stop: &CancellationToken) {
        let mut rest = &rows[..];
        while !rest.is_empty() {
            if stop.is_cancelled() {
                return;
            }
            match self.deliver(token, rest).await {
                Ok((n, super::deliver::Flow::Next)) => rest = &rest[n.max(1).min(rest.len())..],
                // The destination is waiting (retry, pacing, or another instance has an earlier
                // notice for it): the rows behind this one are given back and wait with it.
                Ok((_, super::deliver::Flow::Stop)) => return,
                Err(e) => {
                    tracing::error!(notice = rest[0].id, "outbox: {e}");
                    return;
                }
            }
        }
    }
}

async fn renew(inner: Arc<Inner>, token: String, stop: CancellationToken) {
    let every = inner.policy().renew_every();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => return,
        }
        let until = inner.state.clock().now_ms() + inner.policy().lease_ms;
        if let Err(e) = inner.state.store().renew_claim(&token, until).await {
            tracing::warn!("outbox: cannot renew the lease of notices being sent: {e}");
        }
    }
}
