//! Time as the app sees it. Everything that asks "what time is it" at run time (intake's
//! received-at stamp, the outbox's retries and leases, the unsigned-test rate limit, uptime,
//! `/stats`'s "now") reads the one [`Clock`] in the shared state, so tests drive time by moving a
//! [`ManualClock`] forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + 'static {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;

    /// A monotonic instant, for intervals (rate limits, uptime) that must not jump when the
    /// system's wall clock is set.
    fn instant(&self) -> Instant;

    /// The same moment as [`Clock::now_ms`], as a date.
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.now_ms()).unwrap_or_default()
    }
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis()
    }

    fn instant(&self) -> Instant {
        Instant::now()
    }
}

/// The wall clock plus whatever the test has skipped ahead. It never runs behind the wall clock,
/// because storage stamps new notices with the wall clock and they must be due at once.
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

    fn skipped(&self) -> i64 {
        self.skipped_ms.load(Ordering::SeqCst)
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        Utc::now().timestamp_millis() + self.skipped()
    }

    fn instant(&self) -> Instant {
        Instant::now() + Duration::from_millis(self.skipped().unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_of_its_readings_forward() {
        let clock = ManualClock::new();
        let (ms, at) = (clock.now_ms(), clock.instant());
        clock.advance(Duration::from_secs(90));
        assert!(clock.now_ms() - ms >= 90_000);
        assert!(clock.instant().duration_since(at) >= Duration::from_secs(90));
        assert!(clock.now() >= DateTime::from_timestamp_millis(ms + 90_000).unwrap_or_default());
    }
}
