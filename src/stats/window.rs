//! The window a period is compared with, and how spans of days read in replies.
//!
//! Sellers read "Net vs previous period: +613.6 %" as alarming when month-to-date was set against
//! a few days of the previous month, so a period is compared like with like: the same part of the
//! previous day, week, month or year (month-to-date on the 23rd against the 1st–23rd of last
//! month), and the reply names that window ("vs 1–23 Oct").

use chrono::{
    DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde::Serialize;

/// A span of time a period is compared with, and how it reads in replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// "1–23 Oct", "22 Nov until 14:05", "1 Jan–23 Nov 2025".
    pub label: String,
}

/// How far back the comparison window lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Days(u64),
    Months(u32),
}

/// The instant a local wall-clock time names. A time skipped when clocks go forward is read an
/// hour later, as the clocks then show it; a time that happens twice, the first time.
pub fn local_to_utc(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.with_timezone(&Utc)
        }
        chrono::LocalResult::None => tz
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc)),
    }
}

/// The window `step` before the local span `[from, to)`. A span that runs up to now
/// (`to_date`) is compared with the same stretch of the previous unit, cut at that unit's end
/// (31 March to date against all of February); a whole unit with the whole previous one.
pub fn previous(
    tz: Tz,
    from: NaiveDateTime,
    to: NaiveDateTime,
    step: Step,
    to_date: bool,
) -> Option<Window> {
    let start = match step {
        Step::Days(n) => from.checked_sub_days(Days::new(n))?,
        Step::Months(n) => from.checked_sub_months(Months::new(n))?,
    };
    let end = if to_date {
        (start + (to - from)).min(from)
    } else {
        from
    };
    let (from_utc, to_utc) = (local_to_utc(tz, start), local_to_utc(tz, end));
    (from_utc < to_utc).then(|| Window {
        from: from_utc,
        to: to_utc,
        label: span_label(start, end, to.year()),
    })
}

/// A local span `[from, to)` as a seller reads it: "22 Nov", "22 Nov until 14:05", "1–23 Oct",
/// "27 Oct–9 Nov", with the year only when it is not `this_year`.
pub fn span_label(from: NaiveDateTime, to: NaiveDateTime, this_year: i32) -> String {
    let ends_at_midnight = to.time() == NaiveTime::MIN;
    let last = if ends_at_midnight && to > from {
        to.date().pred_opt().unwrap_or(to.date())
    } else {
        to.date()
    };
    let first = from.date();
    let year = |d: NaiveDate| {
        if d.year() == this_year {
            String::new()
        } else {
            format!(" {}", d.year())
        }
    };
    if first == last {
        let day = format!("{}{}", first.format("%-d %b"), year(first));
        if ends_at_midnight {
            day
        } else {
            format!("{day} until {}", to.format("%H:%M"))
        }
    } else if (first.year(), first.month()) == (last.year(), last.month()) {
        format!(
            "{}–{}{}",
            first.format("%-d"),
            last.format("%-d %b"),
            year(last)
        )
    } else if first.year() == last.year() {
        format!(
            "{}–{}{}",
            first.format("%-d %b"),
            last.format("%-d %b"),
            year(last)
        )
    } else {
        format!("{}–{}", first.format("%-d %b %Y"), last.format("%-d %b %Y"))
    }
}

/// A local date and time for the terminal: "23 Nov 2026 14:05".
pub fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%-d %b %Y %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn month_to_date_is_compared_with_the_same_days_of_last_month() {
        let w = previous(
            Tz::UTC,
            local("2026-11-01 00:00"),
            local("2026-11-23 14:05"),
            Step::Months(1),
            true,
        )
        .unwrap();
        assert_eq!(w.from.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(w.to.to_rfc3339(), "2026-10-23T14:05:00+00:00");
        assert_eq!(w.label, "1–23 Oct");
        // On the 31st, February is compared whole, never spilling into March.
        let w = previous(
            Tz::UTC,
            local("2026-03-01 00:00"),
            local("2026-03-31 09:00"),
            Step::Months(1),
            true,
        )
        .unwrap();
        assert_eq!(w.to.to_rfc3339(), "2026-03-01T00:00:00+00:00");
        assert_eq!(w.label, "1–28 Feb");
    }

    #[test]
    fn whole_units_are_compared_with_the_whole_previous_unit() {
        // Last month was March (31 days); February is shorter and is still taken whole.
        let w = previous(
            Tz::UTC,
            local("2026-03-01 00:00"),
            local("2026-04-01 00:00"),
            Step::Months(1),
            false,
        )
        .unwrap();
        assert_eq!(w.label, "1–28 Feb");
        let today = previous(
            Tz::UTC,
            local("2026-11-23 00:00"),
            local("2026-11-23 14:05"),
            Step::Days(1),
            true,
        )
        .unwrap();
        assert_eq!(today.label, "22 Nov until 14:05");
    }

    #[test]
    fn labels_carry_the_year_only_when_it_differs() {
        assert_eq!(
            span_label(local("2025-12-01 00:00"), local("2025-12-24 10:00"), 2026),
            "1–24 Dec 2025"
        );
        assert_eq!(
            span_label(local("2025-12-28 00:00"), local("2026-01-04 00:00"), 2026),
            "28 Dec 2025–3 Jan 2026"
        );
        assert_eq!(
            span_label(local("2026-10-27 00:00"), local("2026-11-10 00:00"), 2026),
            "27 Oct–9 Nov"
        );
        assert_eq!(
            span_label(local("2026-11-21 00:00"), local("2026-11-22 00:00"), 2026),
            "21 Nov"
        );
    }

    #[test]
    fn a_missing_local_time_moves_to_the_first_valid_instant() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 02:30 on 8 March 2026 does not exist in New York.
        assert_eq!(
            local_to_utc(ny, local("2026-03-08 02:30")).to_rfc3339(),
            "2026-03-08T07:30:00+00:00"
        );
    }
}
