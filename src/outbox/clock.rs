//! Time as the outbox sees it. The worker reads the time only through a [`Clock`], so tests drive
//! retries and leases by moving a [`ManualClock`] forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub trait Clock: Send + Sync + 'static {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::db::now_millis()
    }
}

/// The wall clock plus whatever the test has skipped ahead. It never runs behind the wall clock,
/// because intake stamps new notices with the wall clock and they must be due at once.
#[derive(Default)]
pub struct ManualClock {
    skipped_ms: AtomicI64,
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.skipped_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        crate::db::now_millis() + self.skipped_ms.load(Ordering::SeqCst)
    }
}
