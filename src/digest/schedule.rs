//! When a digest is due and which period it covers, in the seller's time zone. Pure, so daylight
//! saving changes and week boundaries are unit-tested without a clock.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use crate::config::digests::{Digest, Every};
use crate::stats::window::{self, Step};
use crate::stats::{midnight, Period};

/// The most recent period of one digest whose posting time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The idempotency key: one message per digest and period, e.g. `day:42:2026-12-07`.
    pub key: String,
    /// The digest the key belongs to, e.g. `day:42`.
    pub schedule: String,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    /// When it was meant to be posted.
    pub due_at: DateTime<Utc>,
    pub every: Every,
}

impl Due {
    /// The report's period, compared with the one before it.
    pub fn period(&self, tz: Tz) -> Period {
        let to = window::local_to_utc(tz, self.to);
        let step = Step::Days(self.days());
        Period {
            label: window::span_label(self.from, self.to, self.to.year()),
            from: window::local_to_utc(tz, self.from),
            to,
            comparison: window::previous(tz, self.from, self.to, step, false),
        }
    }

    fn days(&self) -> u64 {
        match self.every {
            Every::Day => 1,
            Every::Week => 7,
        }
    }
}

/// The latest period of `digest` (posting to `channel`) due at or before `now`: for a daily
/// digest the day before the posting day, for a weekly one the seven days before it.
pub fn latest_due(digest: &Digest, channel: u64, now: DateTime<Utc>, tz: Tz) -> Due {
    let today = now.with_timezone(&tz).date_naive();
    let at = digest.time();
    let due = |d: NaiveDate| window::local_to_utc(tz, d.and_time(at));
    let (mut posting_day, back) = match digest.every {
        Every::Day => (today, 1),
        Every::Week => {
            let behind = (7 + today.weekday().num_days_from_monday()
                - digest.day().num_days_from_monday())
                % 7;
            (today - Days::new(u64::from(behind)), 7)
        }
    };
    if due(posting_day) > now {
        posting_day = posting_day - Days::new(back);
    }
    let first = posting_day - Days::new(back);
    let schedule = format!("{}:{channel}", digest.every.as_str());
    Due {
        key: format!("{schedule}:{}", first.format("%Y-%m-%d")),
        schedule,
        from: midnight(first),
        to: midnight(posting_day),
        due_at: due(posting_day),
        every: digest.every,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(json: &str) -> Digest {
        serde_json::from_str(json).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_daily_digest_covers_yesterday_from_its_time_on() {
        let d = digest(r#"{ "every": "day", "channelId": "7", "at": "09:00" }"#);
        let tz: Tz = "Europe/Paris".parse().unwrap();
        // 07:59 UTC is 08:59 in Paris: today's is not due yet, so the day before yesterday.
        let before = latest_due(&d, 7, utc("2026-12-08T07:59:00Z"), tz);
        assert_eq!(before.key, "day:7:2026-12-06");
        let after = latest_due(&d, 7, utc("2026-12-08T08:00:00Z"), tz);
        assert_eq!(after.key, "day:7:2026-12-07");
        assert_eq!(after.due_at, utc("2026-12-08T08:00:00Z"));
        let p = after.period(tz);
        assert_eq!(p.from, utc("2026-12-06T23:00:00Z"));
        assert_eq!(p.to, utc("2026-12-07T23:00:00Z"));
        assert_eq!(p.label, "7 Dec");
        assert_eq!(p.comparison.unwrap().label, "6 Dec");
    }

    #[test]
    fn a_weekly_digest_covers_the_seven_days_before_its_weekday() {
        let d = digest(r#"{ "every": "week", "channelId": "7", "weekday": "monday" }"#);
        // Tuesday 8 December 2026: the week posted on Monday the 7th, 30 Nov to 6 Dec.
        let due = latest_due(&d, 7, utc("2026-12-08T12:00:00Z"), Tz::UTC);
        assert_eq!(due.key, "week:7:2026-11-30");
        assert_eq!(due.due_at, utc("2026-12-07T09:00:00Z"));
        assert_eq!(due.period(Tz::UTC).label, "30 Nov–6 Dec");
        // Monday before nine: still the week before.
        let early = latest_due(&d, 7, utc("2026-12-07T08:00:00Z"), Tz::UTC);
        assert_eq!(early.key, "week:7:2026-11-23");
    }

    #[test]
    fn the_day_clocks_go_forward_is_a_day_of_23_hours() {
        let d = digest(r#"{ "every": "day", "channelId": "7", "at": "02:30" }"#);
        let tz: Tz = "Europe/Paris".parse().unwrap();
        // 02:30 does not exist on 29 March 2026 in Paris; it is read as 03:30 (01:30 UTC).
        let due = latest_due(&d, 7, utc("2026-03-30T12:00:00Z"), tz);
        let p = due.period(tz);
        assert_eq!(p.to - p.from, chrono::Duration::hours(23));
        let skipped = latest_due(&d, 7, utc("2026-03-29T01:30:00Z"), tz);
        assert_eq!(skipped.due_at, utc("2026-03-29T01:30:00Z"));
        assert_eq!(skipped.key, "day:7:2026-03-28");
    }
}
