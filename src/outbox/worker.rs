//! The delivery loop. Woken by intake commits (no polling delay on the happy path) and by the
//! earliest retry time; claims due rows with a lease, posts them, and records the outcome. A row
//! only leaves `pending` once Discord has it, or once it is dead-lettered with a logged reason.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio_util::sync::CancellationToken;

use super::Destination;
use crate::config::Config;
use crate::db::{now_millis, Claimed, DbError};
use crate::discord::embed::{self, Style};
use crate::discord::message::Message;
use crate::discord::rest::{DiscordRest, PostError, Target};
use crate::state::AppState;

const BATCH: i64 = 64;
/// Upper bound on an idle sleep: a safety net for rows written by another instance.
const IDLE_MS: i64 = 30_000;

pub struct Worker {
    state: AppState,
    rest: DiscordRest,
    /// Per destination: not before this instant (Discord said its bucket is empty).
    paced: Mutex<HashMap<String, Instant>>,
}

enum Outcome {
    Delivered,
    /// Stop this destination's queue for now; the rest is rescheduled with it.
    Retry {
        at: i64,
        counted: bool,
        reason: String,
    },
    Dead,
}

impl Worker {
    pub fn new(state: AppState, rest: DiscordRest) -> Self {
        Self {
            state,
            rest,
            paced: Mutex::new(HashMap::new()),
        }
    }

    pub fn preview(&self) -> bool {
        !self.rest.has_token()
    }

    pub async fn run(self, stop: CancellationToken) {
        match self.state.store().release_stale_leases().await {
            Ok(n) if n > 0 => {
                tracing::info!("{n} notice(s) interrupted by the last shutdown will be sent again")
            }
            Ok(_) => {}
            Err(e) => tracing::error!("cannot release stale outbox leases: {e}"),
        }
        let wakeup = std::sync::Arc::clone(self.state.outbox_wakeup());
        while !stop.is_cancelled() {
            let delivered = match self.pass(&stop).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!("outbox: {e}");
                    0
                }
            };
            if delivered > 0 {
                continue;
            }
            let wait = match self.state.store().next_due().await {
                Ok(Some(at)) => (at - now_millis()).clamp(0, IDLE_MS),
                Ok(None) => IDLE_MS,
                Err(e) => {
                    tracing::error!("outbox: {e}");
                    1_000
                }
            };
            if wait == 0 {
                continue;
            }
            tokio::select! {
                () = wakeup.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(wait.unsigned_abs())) => {}
                () = stop.cancelled() => {}
            }
        }
    }

    /// Claims what is due and delivers it: destinations in parallel, each one in order.
    async fn pass(&self, stop: &CancellationToken) -> Result<usize, DbError> {
        let config = self.state.config();
        // A claim is exclusive for the lease; by default longer than one request can take (30 s
        // timeout), so a live worker never loses its rows to another instance.
        let lease_ms = i64::try_from(config.delivery.lease_seconds.saturating_mul(1000))
            .unwrap_or(i64::MAX / 4);
        let claimed = self
            .state
            .store()
            .claim_due(now_millis(), lease_ms, BATCH)
            .await?;
        let count = claimed.len();
        let mut queues: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
        for row in claimed {
            queues.entry(row.destination.clone()).or_default().push(row);
        }
        let runs = queues
            .into_values()
            .map(|rows| self.drain(rows, &config, stop));
        for result in futures_util::future::join_all(runs).await {
            result?;
        }
        Ok(count)
    }

    async fn drain(
        &self,
        rows: Vec<Claimed>,
        config: &Config,
        stop: &CancellationToken,
    ) -> Result<(), DbError> {
        let store = self.state.store();
        let mut rows = rows.into_iter();
        while let Some(row) = rows.next() {
            if stop.is_cancelled() {
                store
                    .retry_at(row.id, now_millis(), "shutting down", false)
                    .await?;
                continue;
            }
            match self.deliver(&row, config).await? {
                Outcome::Delivered | Outcome::Dead => {}
                Outcome::Retry {
                    at,
                    counted,
                    reason,
                } => {
                    store.retry_at(row.id, at, &reason, counted).await?;
                    // The destination is failing: the rows behind this one wait with it, in order.
                    for rest in rows.by_ref() {
                        store.retry_at(rest.id, at, &reason, false).await?;
                    }
                }
            }
        }
        Ok(())
    }

    async fn deliver(&self, row: &Claimed, config: &Config) -> Result<Outcome, DbError> {
        let store = self.state.store();
        let Some(destination) = Destination::parse(&row.destination) else {
            store.dead_letter(row.id, "unreadable destination").await?;
            tracing::error!(
                notice = row.id,
                "notice dead-lettered: its destination cannot be read"
            );
            return Ok(Outcome::Dead);
        };
        let Some(mut message) = self.render(row, config) else {
            store.mark_delivered(row.id, None).await?;
            return Ok(Outcome::Delivered);
        };
        if let Destination::Channel(id) = destination {
            if self.preview() {
                println!(
                    "── preview: notice {} for channel {id} (no DISCORD_TOKEN set) ──\n{}",
                    row.id,
                    message.to_text(config.discord_config.tz())
                );
                store.mark_previewed(row.id).await?;
                return Ok(Outcome::Delivered);
            }
            // The row id as nonce: Discord drops a repeat, so a retry after a lost answer is safe.
            message.nonce = Some(row.id.to_string());
            message.enforce_nonce = Some(true);
        }
        self.wait_for_pace(&row.destination).await;
        let target = match &destination {
            Destination::Channel(id) => Target::Channel(*id),
            Destination::Webhook(w) => Target::Webhook(w),
        };
        match self.rest.post(target, &message).await {
            Ok(posted) => {
                store
                    .mark_delivered(row.id, posted.message_id.as_deref())
                    .await?;
                if let Some(pace) = posted.pace {
                    self.set_pace(&row.destination, pace);
                }
                tracing::info!(notice = row.id, event = row.event_id, to = %destination, "notice delivered");
                Ok(Outcome::Delivered)
            }
            Err(PostError::RateLimited(wait)) => {
                let jitter = rand::thread_rng().gen_range(0..250);
                let at =
                    now_millis() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2) + jitter;
                tracing::warn!(notice = row.id, to = %destination, "rate limited by Discord, retrying in {wait:?}");
                Ok(Outcome::Retry {
                    at,
                    counted: false,
                    reason: format!("rate limited for {wait:?}"),
                })
            }
            Err(e) if e.is_transient() => self.retry_or_give_up(row, &destination, e, config).await,
            Err(e) => {
                let hint = fix_hint(&destination, &e);
                store.dead_letter(row.id, &format!("{e}. {hint}")).await?;
                tracing::error!(notice = row.id, event = row.event_id, to = %destination, "notice dead-lettered: {e}. {hint}");
                Ok(Outcome::Dead)
            }
        }
    }

    async fn retry_or_give_up(
        &self,
        row: &Claimed,
        destination: &Destination,
        error: PostError,
        config: &Config,
    ) -> Result<Outcome, DbError> {
        let d = &config.delivery;
        let age_ms = now_millis() - row.created_at;
        let too_old =
            age_ms > i64::try_from(d.max_age_minutes.saturating_mul(60_000)).unwrap_or(i64::MAX);
        if row.attempts >= i64::from(d.max_attempts) || too_old {
            let why = format!("gave up after {} attempt(s): {error}", row.attempts);
            self.state.store().dead_letter(row.id, &why).await?;
            tracing::error!(notice = row.id, event = row.event_id, to = %destination, "notice dead-lettered: {why}");
            return Ok(Outcome::Dead);
        }
        let delay = backoff(row.attempts, d.initial_backoff_ms, d.max_backoff_ms);
        tracing::warn!(notice = row.id, to = %destination, attempt = row.attempts, "delivery failed ({error}), retrying in {delay} ms");
        Ok(Outcome::Retry {
            at: now_millis() + i64::try_from(delay).unwrap_or(i64::MAX / 2),
            counted: true,
            reason: error.to_string(),
        })
    }

    fn render(&self, row: &Claimed, config: &Config) -> Option<Message> {
        let kind = row.event.kind.notice_kind()?;
        let label = self.state.provider_label(&row.event.provider);
        embed::notice(
            &row.event,
            &Style {
                color: config.embed_colors.for_kind(kind).0,
                provider_label: &label,
                show_customer: config.privacy.show_customer,
                template: config.notifications.for_kind(kind).message.as_deref(),
            },
        )
    }

    async fn wait_for_pace(&self, destination: &str) {
        let until = self
            .paced
            .lock()
            .ok()
            .and_then(|m| m.get(destination).copied());
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    fn set_pace(&self, destination: &str, pace: Duration) {
        if let Ok(mut m) = self.paced.lock() {
            m.insert(destination.to_owned(), Instant::now() + pace);
        }
    }
}

/// Exponential backoff with jitter: `initial · 2^(attempt-1)`, capped, then scaled by 50–100 % so
/// many failed rows do not all come back at the same instant.
pub fn backoff(attempt: i64, initial_ms: u64, max_ms: u64) -> u64 {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let raw = initial_ms.saturating_mul(1u64 << exp).min(max_ms);
    let factor = rand::thread_rng().gen_range(0.5..=1.0);
    ((raw as f64) * factor) as u64
}

/// What the seller should do about a refusal, in words.
fn fix_hint(destination: &Destination, error: &PostError) -> String {
    let PostError::Refused { status, .. } = error else {
        return String::new();
    };
    match (destination, status) {
        (Destination::Channel(id), 403) => format!(
            "The bot lacks permission in channel {id}: give it View Channel, Send Messages and Embed Links there"
        ),
        (Destination::Channel(id), 404) => format!(
            "Channel {id} does not exist or the bot is not in its server: check the channel ids in discordConfig"
        ),
        (Destination::Webhook(w), 401 | 403 | 404) => format!(
            "Discord {} no longer accepts posts (deleted or token changed): update notifications.*.webhookUrls",
            w.redacted()
        ),
        _ => "Discord found the message invalid; please report this as a bug".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        for _ in 0..50 {
            let first = backoff(1, 1000, 60_000);
            assert!((500..=1000).contains(&first), "{first}");
            let fourth = backoff(4, 1000, 60_000);
            assert!((4000..=8000).contains(&fourth), "{fourth}");
            let late = backoff(40, 1000, 60_000);
            assert!((30_000..=60_000).contains(&late), "{late}");
        }
    }
}
