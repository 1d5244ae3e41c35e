//! Named periods and date ranges, resolved in the seller's time zone, each with the window it is
//! compared with.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::window::{self, Window};
use crate::db::{DbError, Store};

/// The named periods sellers pick from.
pub const PERIODS: [&str; 7] = [
    "today",
    "yesterday",
    "week",
    "month",
    "last-month",
    "year",
    "all",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub label: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// What the period is compared with (none for `all`, or a range with only an end).
    pub comparison: Option<Window>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error(
        "unknown period {0:?}: use one of today, yesterday, week, month, last-month, year, all"
    )]
    Unknown(String),
    #[error("{0:?} is not a date (expected YYYY-MM-DD)")]
    BadDate(String),
    #[error("the start date must be before the end date")]
    Reversed,
}

pub(crate) fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    window::local_to_utc(tz, midnight(date))
}

pub(crate) fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_time(chrono::NaiveTime::MIN)
}

fn parse_date(text: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| PeriodError::BadDate(text.to_owned()))
}

impl Period {
    /// Resolves a named period (or explicit `from`/`to` dates, `to` inclusive) at `now` in `tz`.
    pub fn resolve(
        name: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
        tz: Tz,
    ) -> Result<Period, PeriodError> {
        use window::Step;
        let now_local = now.with_timezone(&tz).naive_local();
        let today = now_local.date();
        if from.is_some() || to.is_some() {
            let start = from.map(parse_date).transpose()?.map(midnight);
            let end = to
                .map(|t| parse_date(t).map(|d| midnight(d + Days::new(1))))
                .transpose()?;
            let from_utc =
                start.map_or(DateTime::<Utc>::UNIX_EPOCH, |s| window::local_to_utc(tz, s));
            let to_utc = end.map_or(now, |e| window::local_to_utc(tz, e));
            if from_utc >= to_utc {
                return Err(PeriodError::Reversed);
            }
            let label = format!(
                "{} to {}",
                from.unwrap_or("the beginning"),
                to.unwrap_or("now")
            );
            // The same number of days just before, cut at the same time of day when it runs to now.
            let comparison = start.and_then(|s| {
                let e = end.unwrap_or(now_local);
                let days = ((e - s).num_seconds() + 86_399) / 86_400;
                let days = u64::try_from(days.max(1)).ok()?;
                window::previous(tz, s, e, Step::Days(days), end.is_none())
            });
            return Ok(Period {
                label,
                from: from_utc,
                to: to_utc,
                comparison,
            });
        }
        let name = name.unwrap_or("month");
        let first_of_month = midnight(today.with_day(1).unwrap_or(today));
        // (start, end or None for now, how far back the comparison lies)
        let (start, end, step) = match name {
            "today" => (midnight(today), None, Step::Days(1)),
            "yesterday" => (
                midnight(today - Days::new(1)),
                Some(midnight(today)),
                Step::Days(1),
            ),
            "week" => (midnight(today - Days::new(6)), None, Step::Days(7)),
            "month" => (first_of_month, None, Step::Months(1)),
            "last-month" => (
                first_of_month - Months::new(1),
                Some(first_of_month),
                Step::Months(1),
            ),
            "year" => (
                midnight(today.with_ordinal(1).unwrap_or(today)),
                None,
                Step::Months(12),
            ),
            "all" => {
                return Ok(Period {
                    label: name.to_owned(),
                    from: DateTime::<Utc>::UNIX_EPOCH,
                    to: now,
                    comparison: None,
                })
            }
            other => return Err(PeriodError::Unknown(other.to_owned())),
        };
        Ok(Period {
            label: name.to_owned(),
            from: window::local_to_utc(tz, start),
            to: end.map_or(now, |e| window::local_to_utc(tz, e)),
            comparison: window::previous(tz, start, end.unwrap_or(now_local), step, end.is_none()),
        })
    }

    /// `all` (and a range with only an end) begins on the day of the first stored event rather
    /// than in 1970, so replies and the chart start where the shop's history does.
    pub(crate) async fn starting_at_first_event(
        mut self,
        store: &Store,
        provider: Option<&str>,
        tz: Tz,
    ) -> Result<Period, DbError> {
        if self.from == DateTime::<Utc>::UNIX_EPOCH {
            let first = store
                .first_event_at(provider)
                .await?
                .and_then(DateTime::<Utc>::from_timestamp_millis)
                .unwrap_or(self.to);
            let day = first.with_timezone(&tz).date_naive();
            self.from = local_midnight(tz, day).min(self.to);
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn periods_follow_the_sellers_time_zone() {
        let now = at("2026-03-10T02:30:00Z");
        let tz: Tz = "America/New_York".parse().unwrap();
        // 02:30 UTC is still 9 March in New York, the day after DST began (UTC-4 from 8 March).
        let today = Period::resolve(Some("today"), None, None, now, tz).unwrap();
        assert_eq!(today.from, at("2026-03-09T04:00:00Z"));
        let yesterday = Period::resolve(Some("yesterday"), None, None, now, tz).unwrap();
        // The day the clocks moved forward is 23 hours long.
        assert_eq!(
            (yesterday.from, yesterday.to),
            (at("2026-03-08T05:00:00Z"), at("2026-03-09T04:00:00Z"))
        );
        let last_month = Period::resolve(Some("last-month"), None, None, now, tz).unwrap();
        assert_eq!(
            (last_month.from, last_month.to),
            (at("2026-02-01T05:00:00Z"), at("2026-03-01T05:00:00Z"))
        );
        let month = Period::resolve(Some("month"), None, None, now, Tz::UTC).unwrap();
        assert_eq!(month.from, at("2026-03-01T00:00:00Z"));
        assert!(Period::resolve(Some("all"), None, None, now, tz)
            .unwrap()
            .comparison
            .is_none());
        assert!(Period::resolve(Some("fortnight"), None, None, now, tz).is_err());
    }

    #[test]
    fn each_period_is_compared_like_with_like() {
        let now = at("2026-11-23T14:05:00Z");
        let window = |name: &str| {
            let p = Period::resolve(Some(name), None, None, now, Tz::UTC).unwrap();
            p.comparison.map(|w| (w.from, w.to, w.label))
        };
        assert_eq!(
            window("month"),
            Some((
                at("2026-10-01T00:00:00Z"),
                at("2026-10-23T14:05:00Z"),
                "1–23 Oct".into()
            ))
        );
        assert_eq!(
            window("today"),
            Some((
                at("2026-11-22T00:00:00Z"),
                at("2026-11-22T14:05:00Z"),
                "22 Nov until 14:05".into()
            ))
        );
        assert_eq!(
            window("last-month"),
            Some((
                at("2026-09-01T00:00:00Z"),
                at("2026-10-01T00:00:00Z"),
                "1–30 Sep".into()
            ))
        );
        assert_eq!(
            window("week").map(|w| w.2),
            Some("10–16 Nov".into()),
            "the 7 days before the last 7, cut at the same time"
        );
        assert_eq!(
            window("year").map(|w| (w.0, w.1)),
            Some((at("2025-01-01T00:00:00Z"), at("2025-11-23T14:05:00Z")))
        );
        assert_eq!(window("all"), None);
    }

    #[test]
    fn explicit_dates_include_the_end_day() {
        let p = Period::resolve(
            None,
            Some("2026-01-01"),
            Some("2026-01-31"),
            Utc::now(),
            Tz::UTC,
        )
        .unwrap();
        assert_eq!(
            (p.from, p.to),
            (at("2026-01-01T00:00:00Z"), at("2026-02-01T00:00:00Z"))
        );
        let before = p.comparison.unwrap();
        assert_eq!(
            (before.from, before.to, before.label.as_str()),
            (
                at("2025-12-01T00:00:00Z"),
                at("2026-01-01T00:00:00Z"),
                "1–31 Dec 2025"
            )
        );
        assert_eq!(
            Period::resolve(
                None,
                Some("2026-02-01"),
                Some("2026-01-01"),
                Utc::now(),
                Tz::UTC
            ),
            Err(PeriodError::Reversed)
        );
    }
}
