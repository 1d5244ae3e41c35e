//! Alerts to a staff channel (`discordConfig.alertsChannelId`): signature failures starting,
//! webhooks silent too long, notices dead-lettered, Discord permission errors, the database
//! refusing writes. Each kind is rate-limited ([`rules::Limiter`]) and posted straight through
//! the REST client in a task of its own, not through the outbox: an alert must get out while
//! the database refuses writes, and must never hold up the webhook or notice that caused it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::discord::rest::{DiscordRest, PostError, Target};
use crate::notice::destination::Destination;
use crate::notice::message::{AllowedMentions, Message};
use crate::state::AppState;

pub mod rules;

pub use rules::Alert;
use rules::{Key, Limiter};

/// The alerts' state, one per app: the rate limits and when a webhook last arrived.
#[derive(Default)]
pub struct Alerts {
    limits: Mutex<HashMap<Key, Limiter>>,
    /// When a verified webhook last arrived; None: none since start.
    last_webhook: Mutex<Option<Instant>>,
    /// The silence alert was sent for the current silent stretch.
    silence_said: AtomicBool,
    rest: OnceLock<DiscordRest>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl Alerts {
    /// Gives the alerts the app's Discord client (set once at start; without it, alerts are
    /// logged only, as in the command-line tools).
    pub fn connect(&self, rest: DiscordRest) {
        let _ = self.rest.set(rest);
    }

    /// A verified webhook arrived: the silence is over.
    pub fn webhook_arrived(&self, now: Instant) {
        *lock(&self.last_webhook) = Some(now);
        self.silence_said.store(false, Ordering::Relaxed);
    }

    fn occur(&self, alert: Alert, now: Instant) -> Option<(Alert, u64)> {
        lock(&self.limits)
            .entry(alert.key())
            .or_default()
            .occur(alert, now)
    }

    fn flush(&self, now: Instant) -> Vec<(Alert, u64)> {
        lock(&self.limits)
            .values_mut()
            .filter_map(|l| l.flush(now))
            .collect()
    }

    /// The silence alert, once per silent stretch, when `after` has passed since the last
    /// webhook (or since `started`).
    fn silence(&self, after: Duration, started: Instant, now: Instant) -> Option<Alert> {
        let since = lock(&self.last_webhook).unwrap_or(started);
        if now.saturating_duration_since(since) < after
            || self.silence_said.swap(true, Ordering::Relaxed)
        {
            return None;
        }
        Some(Alert::Silent {
            minutes: after.as_secs() / 60,
        })
    }
}

impl AppState {
    /// Says `alert` in the alerts channel, unless one of its kind was said in the last hour
    /// (then it is counted and said with the next). Returns at once.
    pub fn alert(&self, alert: Alert) {
        let now = self.clock().instant();
        if let Some((alert, n)) = self.alerts().occur(alert, now) {
            self.post_alert(&alert, n);
        }
    }

    /// After a refused post: a 403 is a permission the bot lacks, worth an alert.
    pub fn alert_post_refused(&self, error: &PostError, destination: &Destination) {
        if let PostError::Refused { status: 403, .. } = error {
            let channel = match destination {
                Destination::Channel(id) => Some(*id),
                Destination::Webhook(_) => None,
            };
            self.alert(Alert::PermissionDenied { channel });
        }
    }

    fn post_alert(&self, alert: &Alert, n: u64) {
        let text = rules::text(alert, n);
        tracing::warn!(kind = ?alert.key(), "alert: {text}");
        let Some(channel) = self.config().discord_config.alerts_channel_id else {
            return;
        };
        let Some(rest) = self.alerts().rest.get().filter(|r| r.has_token()).cloned() else {
            return;
        };
        let message = Message {
            content: Some(text),
            embeds: Vec::new(),
            allowed_mentions: AllowedMentions::default(),
            nonce: None,
            enforce_nonce: None,
        };
        tokio::spawn(async move {
            if let Err(e) = rest.post(Target::Channel(channel), &message).await {
                tracing::warn!("alert not posted in discordConfig.alertsChannelId {channel}: {e}");
            }
        });
    }
}

/// One look at what alerts on time rather than on an event: held counts whose hour is up, and
/// the silence. The watchdog calls it every minute; tests call it after moving the clock.
pub fn check(state: &AppState) {
    let now = state.clock().instant();
    for (alert, n) in state.alerts().flush(now) {
        state.post_alert(&alert, n);
    }
    let minutes = state.config().discord_config.alert_after_silent_minutes;
    let after = minutes.map(|m| Duration::from_secs(m.saturating_mul(60)));
    if let Some(alert) = after.and_then(|a| state.alerts().silence(a, state.started(), now)) {
        state.alert(alert);
    }
}

/// The watchdog: [`check`] once a minute until `stop`.
pub async fn watch(state: AppState, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(60)) => check(&state),
        }
    }
}
