//! The one shared state: axum's `State` and poise's `Data`. Cheap to clone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::{Config, Settings};
use crate::db::writer::Writer;
use crate::db::Store;
use crate::providers::Provider;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    writer: Writer,
    config: RwLock<Arc<Config>>,
    settings: Settings,
    providers: Vec<Arc<dyn Provider>>,
    outbox_wakeup: Arc<Notify>,
    clock: Arc<dyn Clock>,
    started: Instant,
    unsigned_tests: UnsignedTests,
    /// Signed webhooks kept raw because they could not be read in full (see `Detail::Unreadable`).
    unreadable: AtomicU64,
    claim_limiter: crate::roles::ClaimLimiter,
    alerts: crate::alerts::Alerts,
    license_api: crate::roles::payhip_api::LicenseApi,
}

/// Payhip test payloads carry no signature, so anyone who knows the webhook URL can send them.
/// They are counted, not stored; a seller who asked to see them gets one a minute at most.
#[derive(Default)]
pub struct UnsignedTests {
    received: AtomicU64,
    /// When a test was last let through to storage and Discord, and when one was last logged.
    last_kept: Mutex<Option<Instant>>,
    last_logged: Mutex<Option<Instant>>,
}

/// One kept (announced) and one logged unsigned test per this interval, whatever the flood.
const UNSIGNED_TEST_INTERVAL: Duration = Duration::from_secs(60);

impl UnsignedTests {
    /// Counts one arrival; true when it may be stored and announced (the seller opted in and none
    /// was let through in the last minute).
    pub fn arrive(&self, announce: bool, now: Instant) -> bool {
        self.received.fetch_add(1, Ordering::Relaxed);
        announce && Self::take_slot(&self.last_kept, now)
    }

    /// True at most once a minute, so a flood cannot flood the log either.
    pub fn may_log(&self, now: Instant) -> bool {
        Self::take_slot(&self.last_logged, now)
    }

    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    fn take_slot(slot: &Mutex<Option<Instant>>, now: Instant) -> bool {
        let mut last = match slot.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match *last {
            Some(at) if now.saturating_duration_since(at) < UNSIGNED_TEST_INTERVAL => false,
            _ => {
                *last = Some(now);
                true
            }
        }
    }
}

impl AppState {
    pub fn new(
        settings: Settings,
        store: Store,
        writer: Writer,
        providers: Vec<Arc<dyn Provider>>,
        outbox_wakeup: Arc<Notify>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let license_api =
            crate::roles::payhip_api::LicenseApi::new(settings.payhip_api_base.as_deref());
        Self {
            inner: Arc::new(Inner {
                store,
                writer,
                config: RwLock::new(Arc::new(settings.config.clone())),
                settings,
                providers,
                outbox_wakeup,
                started: clock.instant(),
                clock,
                unsigned_tests: UnsignedTests::default(),
                unreadable: AtomicU64::new(0),
                claim_limiter: crate::roles::ClaimLimiter::default(),
                alerts: crate::alerts::Alerts::default(),
                license_api,
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    /// The current config; a snapshot, so one request sees one consistent version.
    pub fn config(&self) -> Arc<Config> {
        match self.inner.config.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Swaps in a new config (after `/config set` or an edit of the file).
    pub fn replace_config(&self, config: Config) {
        let mut guard = match self.inner.config.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(config);
    }

    /// Start-up settings: secrets, database URL, Discord base. Not changed at run time.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.inner.providers
    }

    pub fn outbox_wakeup(&self) -> &Arc<Notify> {
        &self.inner.outbox_wakeup
    }

    /// The name sellers know a provider by ("Payhip"), for embeds and templates.
    pub fn provider_label(&self, name: &str) -> String {
        self.inner
            .providers
            .iter()
            .find(|p| p.name() == name)
            .map_or_else(|| name.to_owned(), |p| p.display_name().to_owned())
    }

    pub fn unsigned_tests(&self) -> &UnsignedTests {
        &self.inner.unsigned_tests
    }

    pub fn count_unreadable(&self) {
        self.inner.unreadable.fetch_add(1, Ordering::Relaxed);
    }

    /// Signed webhooks stored raw since start because they could not be read in full.
    pub fn unreadable(&self) -> u64 {
        self.inner.unreadable.load(Ordering::Relaxed)
    }

    /// Per-member pacing of `/claim`.
    pub fn claim_limiter(&self) -> &crate::roles::ClaimLimiter {
        &self.inner.claim_limiter
    }

    pub fn license_api(&self) -> &crate::roles::payhip_api::LicenseApi {
        &self.inner.license_api
    }

    /// The rate limits and silence watch of [`crate::alerts`]; see [`AppState::alert`].
    pub fn alerts(&self) -> &crate::alerts::Alerts {
        &self.inner.alerts
    }

    /// When the app started, on its clock.
    pub fn started(&self) -> Instant {
        self.inner.started
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.clock()
            .instant()
            .saturating_duration_since(self.inner.started)
    }

    /// The one clock the app reads (see [`crate::clock`]).
    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_tests_are_let_through_once_a_minute_and_only_when_asked() {
        let gate = UnsignedTests::default();
        let t0 = Instant::now();
        assert!(
            !gate.arrive(false, t0),
            "not announced unless the seller asked"
        );
        assert!(gate.arrive(true, t0));
        assert!(!gate.arrive(true, t0 + Duration::from_secs(59)));
        assert!(gate.arrive(true, t0 + Duration::from_secs(61)));
        assert_eq!(gate.received(), 4);
        assert!(gate.may_log(t0));
        assert!(!gate.may_log(t0 + Duration::from_secs(1)));
    }
}
