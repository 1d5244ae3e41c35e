//! The HTTP server behind the webhook port and the metrics address. Our own accept loop rather
//! than `axum::serve`, so that idle, slow or half-sent connections can neither starve real
//! webhooks of sockets nor hold a shutdown: every connection has a deadline for each phase, the
//! number open is capped (the oldest idle one makes room for a new one), and a stop waits for
//! requests being answered only, and for a bounded time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::WebhookConfig;

mod connection;
mod open_files;

pub use open_files::{open_file_limit, raise_open_file_limit};

use connection::{Ended, Phase, Slot};

/// How long a stop waits for requests already received to be answered. A request still being
/// sent is not waited for: nothing was acknowledged, and its sender retries.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Open files kept free for the database, Discord, the metrics port and logs when the connection
/// cap is fitted under the process's open-file limit.
const RESERVED_FILES: u64 = 128;

/// Connections the metrics address keeps: one scraper needs one.
pub const METRICS_MAX_CONNECTIONS: usize = 16;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Limits {
    pub fn from_config(c: &WebhookConfig) -> Limits {
        Limits {
            max_connections: c.max_connections,
            header_timeout: Duration::from_secs(c.header_timeout_seconds),
            body_timeout: Duration::from_secs(c.body_timeout_seconds),
            idle_timeout: Duration::from_secs(c.idle_timeout_seconds),
            shutdown_grace: SHUTDOWN_GRACE,
        }
    }

    /// The cap, lowered if needed so that a full house of connections still leaves the process
    /// files to accept with, to open the database and to reach Discord.
    pub fn fit_open_files(mut self, open_file_limit: Option<u64>) -> Limits {
        if let Some(limit) = open_file_limit {
            let room = usize::try_from(limit.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
            self.max_connections = self.max_connections.min(room.max(16));
        }
        self
    }
}

/// What `/metrics` shows about a listener.
#[derive(Debug, Default)]
pub struct Stats {
    open: AtomicUsize,
    evicted: AtomicU64,
    timed_out: AtomicU64,
}

impl Stats {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections closed to make room under the cap.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Connections closed because a request's head or body took too long.
    pub fn timed_out(&self) -> u64 {
        self.timed_out.load(Ordering::Relaxed)
    }
}

/// The open connections, oldest first (ids grow with each accept).
struct Registry {
    slots: Mutex<BTreeMap<u64, Arc<Slot>>>,
    freed: tokio::sync::Notify,
    stats: Arc<Stats>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn insert(&self, id: u64, slot: Arc<Slot>) {
        let mut slots = self.lock();
        slots.insert(id, slot);
        self.stats.open.store(slots.len(), Ordering::Relaxed);
    }

    fn remove(&self, id: u64) {
        let mut slots = self.lock();
        if slots.remove(&id).is_some() {
            self.stats.open.store(slots.len(), Ordering::Relaxed);
            self.freed.notify_one();
        }
    }

    /// Closes the oldest idle connection, else the oldest still sending its head, else its body.
    /// Connections whose request is being answered are never chosen.
    fn evict_one(&self) -> bool {
        let mut slots = self.lock();
        let mut victim: Option<(u8, u64)> = None;
        for (&id, slot) in slots.iter() {
            let Some(rank) = slot.phase().eviction_rank() else {
                continue;
            };
            if victim.is_none_or(|(best, _)| rank < best) {
                victim = Some((rank, id));
                if rank == 0 {
                    break;
                }
            }
        }
        let Some((_, id)) = victim else { return false };
        if let Some(slot) = slots.remove(&id) {
            slot.close.cancel();
        }
        self.stats.open.store(slots.len(), Ordering::Relaxed);
        self.stats.evicted.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn answering(&self) -> usize {
        self.lock()
            .values()
            .filter(|s| s.phase() == Phase::Answering)
            .count()
    }
}

/// Removes a connection from the registry however its task ends.
struct Registered {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

/// A warning repeated at most once a minute, with how often it was held back.
struct Throttled {
    last: Option<Instant>,
    held_back: u64,
}

impl Throttled {
    const EVERY: Duration = Duration::from_secs(60);

    fn new() -> Self {
        Self {
            last: None,
            held_back: 0,
        }
    }

    /// `Some(times held back since the last warning)` when a warning is due now.
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|at| now < at + Self::EVERY) {
            self.held_back += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.held_back))
    }
}

/// Serves `router` on `listener` until `shutdown`, then returns once every request already
/// received is answered or [`Limits::shutdown_grace`] has passed. `name` labels the log lines.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
    stats: Arc<Stats>,
    name: &'static str,
) {
    let registry = Arc::new(Registry {
        slots: Mutex::new(BTreeMap::new()),
        freed: tokio::sync::Notify::new(),
        stats: Arc::clone(&stats),
    });
    let tracker = TaskTracker::new();
    // Told to connections only after the shutdown log has counted them.
    let drain = CancellationToken::new();
    let force = CancellationToken::new();
    let mut at_cap = Throttled::new();
    let mut accept_failed = Throttled::new();
    let mut next_id: u64 = 0;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of files or memory: make room rather than spin, and say so.
                let evicted = registry.evict_one();
                if let Some(held_back) = accept_failed.due() {
                    tracing::warn!(
                        listener = name,
                        open = registry.len(),
                        evicted,
                        "cannot accept connections: {e} (repeated {held_back} time(s) since the last warning)"
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if registry.len() >= limits.max_connections {
            let evicted = registry.evict_one();
            if let Some(held_back) = at_cap.due() {
                tracing::warn!(
                    listener = name,
                    max = limits.max_connections,
                    "connection limit reached: {} (webhookConfig.maxConnections); happened {held_back} more time(s) since the last warning, which is shown at most once a minute",
                    if evicted {
                        "closed the oldest idle or unfinished connection to make room"
                    } else {
                        "every connection is answering a request; the new one waits"
                    }
                );
            }
            if !evicted && !wait_for_room(&registry, limits.max_connections, &shutdown).await {
                break;
            }
        }
        let _ = stream.set_nodelay(true);
        let id = next_id;
        next_id += 1;
        let slot = Slot::new();
        registry.insert(id, Arc::clone(&slot));
        let registered = Registered {
            registry: Arc::clone(&registry),
            id,
        };
        let (router, drain, force, stats) = (
            router.clone(),
            drain.clone(),
            force.clone(),
            Arc::clone(&stats),
        );
        tracker.spawn(async move {
            let _registered = registered;
            if let Ended::TimedOut =
                connection::run(stream, router, slot, limits, drain, force).await
            {
                stats.timed_out.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("closed a connection that was too slow to send its request");
            }
        });
    }
    drop(listener);
    tracker.close();
    let answering = registry.answering();
    let others = registry.len().saturating_sub(answering);
    tracing::info!(
        listener = name,
        "stopped accepting connections; closing {others} idle or unfinished connection(s), waiting up to {} s for {answering} request(s) being answered",
        limits.shutdown_grace.as_secs()
    );
    drain.cancel();
    if tokio::time::timeout(limits.shutdown_grace, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            listener = name,
            "{} request(s) still unanswered after {} s; closing them (their senders retry)",
            registry.len(),
            limits.shutdown_grace.as_secs()
        );
        force.cancel();
        tracker.wait().await;
    }
}

/// Waits until a connection closes; false if shutdown came first.
async fn wait_for_room(registry: &Registry, max: usize, shutdown: &CancellationToken) -> bool {
    loop {
        let freed = registry.freed.notified();
        if registry.len() < max {
            return true;
        }
        tokio::select! {
            () = freed => {}
            () = shutdown.cancelled() => return false,
        }
    }
}

/// Errors that concern one connection only (the client went away during the handshake).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_under_the_open_file_limit() {
        let limits = Limits::from_config(&WebhookConfig::default());
        assert_eq!(limits.fit_open_files(None).max_connections, 1_000);
        assert_eq!(limits.fit_open_files(Some(1_024)).max_connections, 896);
        assert_eq!(limits.fit_open_files(Some(65_536)).max_connections, 1_000);
        assert_eq!(limits.fit_open_files(Some(64)).max_connections, 16);
    }

    #[tokio::test(start_paused = true)]
    async fn a_repeated_warning_is_shown_at_most_once_a_minute() {
        let mut warning = Throttled::new();
        assert_eq!(warning.due(), Some(0));
        for _ in 0..500 {
            assert_eq!(warning.due(), None);
        }
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(
            warning.due(),
            Some(500),
            "the next one says how many were held back"
        );
        assert_eq!(warning.due(), None);
    }
}
