//! How long to wait and when to give up: pure arithmetic on attempts, ages and Discord's answer,
//! so the rules are tested without a clock, a database or a server.

use std::time::Duration;

use crate::config::Delivery;

/// A claim is never held longer than this without being renewed (PostgreSQL: a dead instance's
/// notices are taken over after at most this long).
pub const MAX_LEASE: Duration = Duration::from_secs(15);
/// The longest `retry_after` honoured: Discord has asked for an hour, which would hold a
/// destination's queue that long.
pub const RATE_LIMIT_CAP: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub lease_ms: i64,
    pub max_attempts: i64,
    pub max_age_ms: i64,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
}

/// A failed post, as far as the schedule cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Discord asked to wait this long.
    RateLimited(Duration),
    /// Anything else that may pass: 5xx, timeouts, network errors, a refused bot token.
    Transient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryInMs(i64),
    GiveUp,
}

impl Policy {
    pub fn from_config(d: &Delivery) -> Self {
        let lease = Duration::from_secs(d.lease_seconds.max(1)).min(MAX_LEASE);
        Self {
            lease_ms: ms(lease),
            max_attempts: i64::from(d.max_attempts.max(1)),
            max_age_ms: ms(Duration::from_secs(d.max_age_minutes.saturating_mul(60))),
            initial_backoff_ms: d.initial_backoff_ms.max(1),
            max_backoff_ms: d.max_backoff_ms.max(d.initial_backoff_ms.max(1)),
        }
    }

    /// Renewed three times per lease, so one slow renewal does not lose the claim.
    pub fn renew_every(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.lease_ms / 3).unwrap_or(1).max(1))
    }

    /// The wait after the `attempt`-th failed post, before jitter: `initial · 2^(attempt-1)`, capped.
    pub fn backoff_ms(&self, attempt: i64) -> u64 {
        let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
        self.initial_backoff_ms
            .saturating_mul(1u64.checked_shl(exp).unwrap_or(u64::MAX))
            .min(self.max_backoff_ms)
    }

    /// What follows a failed post. `attempts` counts every post so far, this one included (a
    /// rate-limited post counts too), `age_ms` is the notice's age, and `jitter` in `0.5..=1.0`
    /// shortens the backoff so that queued notices do not all come back at once. A rate limit waits
    /// for Discord's `retry_after` (capped) or the backoff, whichever is longer, so every counted
    /// attempt takes at least its backoff and the attempt budget lasts as computed in
    /// [`Policy::budget_warning`].
    pub fn after_failure(&self, failure: Failure, attempts: i64, age_ms: i64, jitter: f64) -> Next {
        if attempts >= self.max_attempts || age_ms > self.max_age_ms {
            return Next::GiveUp;
        }
        let backoff = (self.backoff_ms(attempts) as f64 * jitter.clamp(0.5, 1.0)) as i64;
        let wait = match failure {
            Failure::RateLimited(asked) => ms(asked.min(RATE_LIMIT_CAP)).max(backoff),
            Failure::Transient => backoff,
        };
        Next::RetryInMs(wait)
    }

    /// The least time `attempts` posts can take, each failure waiting the shortest jittered backoff.
    pub fn shortest_span_ms(&self, attempts: i64) -> i64 {
        (1..attempts)
            .map(|k| i64::try_from(self.backoff_ms(k) / 2).unwrap_or(i64::MAX / 1024))
            .fold(0i64, i64::saturating_add)
    }

    /// The fewest attempts that cannot be used up before the age limit.
    fn attempts_lasting_max_age(&self) -> i64 {
        let (mut attempts, mut span) = (1i64, 0i64);
        // Doubling phase, then every wait is the capped one: finish with a division.
        while span < self.max_age_ms {
            let wait = i64::try_from(self.backoff_ms(attempts) / 2)
                .unwrap_or(i64::MAX / 1024)
                .max(1);
            if self.backoff_ms(attempts) >= self.max_backoff_ms {
                let left = self.max_age_ms - span;
                return attempts + (left + wait - 1) / wait;
            }
            span += wait;
            attempts += 1;
        }
        attempts
    }

    /// A warning when the attempt budget can run out before the age limit, so that the two
    /// settings would disagree about when a notice is given up.
    pub fn budget_warning(&self) -> Option<String> {
        let needed = self.attempts_lasting_max_age();
        if self.max_attempts >= needed {
            return None;
        }
        Some(format!(
            "delivery.maxAttempts ({}) can be used up after about {} min, before delivery.maxAgeMinutes ({}) is reached; \
             with these backoff settings, {needed} attempts last at least maxAgeMinutes",
            self.max_attempts,
            self.shortest_span_ms(self.max_attempts) / 60_000,
            self.max_age_ms / 60_000,
        ))
    }
}

/// The warning for a lease above [`MAX_LEASE`], which is then used instead.
pub fn lease_warning(d: &Delivery) -> Option<String> {
    (d.lease_seconds > MAX_LEASE.as_secs()).then(|| {
        format!(
            "delivery.leaseSeconds ({}) is above the {} s limit; {} s is used",
            d.lease_seconds,
            MAX_LEASE.as_secs(),
            MAX_LEASE.as_secs()
        )
    })
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Policy {
        Policy::from_config(&Delivery::default())
    }

    #[test]
    fn backoff_doubles_from_the_initial_wait_up_to_the_cap() {
        let p = defaults();
        assert_eq!(p.backoff_ms(1), 1_000);
        assert_eq!(p.backoff_ms(4), 8_000);
        assert_eq!(p.backoff_ms(11), 600_000);
        assert_eq!(p.backoff_ms(500), 600_000);
        assert_eq!(
            p.after_failure(Failure::Transient, 4, 0, 0.5),
            Next::RetryInMs(4_000)
        );
        assert_eq!(
            p.after_failure(Failure::Transient, 4, 0, 1.0),
            Next::RetryInMs(8_000)
        );
    }

    #[test]
    fn an_hour_long_retry_after_is_capped_at_fifteen_minutes() {
        let p = defaults();
        let asked = Duration::from_secs(3600);
        assert_eq!(
            p.after_failure(Failure::RateLimited(asked), 1, 0, 1.0),
            Next::RetryInMs(15 * 60_000)
        );
    }

    #[test]
    fn a_short_retry_after_still_waits_the_backoff_of_its_attempt() {
        let p = defaults();
        let asked = Duration::from_millis(300);
        assert_eq!(
            p.after_failure(Failure::RateLimited(asked), 1, 0, 1.0),
            Next::RetryInMs(1_000)
        );
        assert_eq!(
            p.after_failure(Failure::RateLimited(Duration::from_secs(5)), 1, 0, 1.0),
            Next::RetryInMs(5_000)
        );
    }

    #[test]
    fn rate_limits_count_toward_the_budget_and_the_age_limit() {
        let p = defaults();
        let asked = Failure::RateLimited(Duration::from_secs(1));
        assert_eq!(p.after_failure(asked, p.max_attempts, 0, 1.0), Next::GiveUp);
        assert_eq!(
            p.after_failure(asked, 2, p.max_age_ms + 1, 1.0),
            Next::GiveUp
        );
        assert_eq!(
            p.after_failure(Failure::Transient, p.max_attempts, 0, 1.0),
            Next::GiveUp
        );
        assert!(matches!(
            p.after_failure(asked, p.max_attempts - 1, p.max_age_ms, 1.0),
            Next::RetryInMs(_)
        ));
    }

    #[test]
    fn with_the_defaults_the_age_limit_ends_retries_not_the_attempt_budget() {
        let p = defaults();
        assert_eq!(p.budget_warning(), None);
        assert!(p.shortest_span_ms(p.max_attempts) >= p.max_age_ms);
        // Endless one-hour rate limits: capped at 15 min each, the notice is given up at 24 h.
        let capped = 15 * 60_000;
        assert!(p.max_age_ms / capped < p.max_attempts);
    }

    #[test]
    fn a_budget_shorter_than_the_age_limit_is_warned_about() {
        let mut d = Delivery {
            max_attempts: 25,
            ..Delivery::default()
        };
        let text = Policy::from_config(&d).budget_warning().expect("a warning");
        assert!(text.contains("delivery.maxAttempts (25)"), "{text}");
        assert!(text.contains("298 attempts"), "{text}");
        // Tiny waits (as in tests) need a huge budget: worked out without counting one by one.
        d.initial_backoff_ms = 20;
        d.max_backoff_ms = 200;
        let p = Policy::from_config(&d);
        let text = p.budget_warning().expect("a warning");
        assert!(text.contains("864004 attempts"), "{text}");
        assert!(p.shortest_span_ms(864_004) >= p.max_age_ms);
        assert!(p.shortest_span_ms(864_003) < p.max_age_ms);
    }

    #[test]
    fn leases_are_short_and_renewed_three_times_per_lease() {
        let mut d = Delivery::default();
        assert_eq!(Policy::from_config(&d).lease_ms, 15_000);
        assert_eq!(lease_warning(&d), None);
        d.lease_seconds = 120;
        let p = Policy::from_config(&d);
        assert_eq!(p.lease_ms, 15_000);
        assert_eq!(p.renew_every(), Duration::from_secs(5));
        assert!(lease_warning(&d).is_some_and(|w| w.contains("15 s is used")));
        d.lease_seconds = 2;
        assert_eq!(Policy::from_config(&d).lease_ms, 2_000);
    }
}
