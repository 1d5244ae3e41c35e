//! The chart's numbers: sales and refunds per hour, day or month of a period, per currency.
//! Every bar of the period is there, zero or not, so a quiet day reads as a quiet day instead of
//! vanishing from the axis.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, Months, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::{figures, local_midnight, midnight, Filter, Period};
use crate::db::{millis, DbError, Store};

/// Periods up to this many days are drawn a bar per day; longer ones a bar per month.
pub const MAX_DAILY_BARS: i64 = 92;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Hour,
    Day,
    Month,
}

/// One bar: the sales and the refunds of that hour, day or month, in minor units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Bar {
    pub gross: i64,
    pub refunded: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub step: Step,
    /// Where each bar starts, on the seller's clock.
    pub starts: Vec<NaiveDateTime>,
    /// One bar per start, for each currency with a sale or a refund in the period.
    pub currencies: BTreeMap<String, Vec<Bar>>,
}

impl Series {
    /// Nothing to draw: no sale and no refund in any bar.
    pub fn is_empty(&self) -> bool {
        self.currencies
            .values()
            .flatten()
            .all(|b| b.gross == 0 && b.refunded == 0)
    }
}

/// A bar's local start and its exact `[from, to)`.
type Bucket = (NaiveDateTime, DateTime<Utc>, DateTime<Utc>);

/// A day's period is drawn by the hour, up to [`MAX_DAILY_BARS`] days by the day, beyond that by
/// the month. Bars follow the seller's clock; the first and last are cut to the period.
pub fn buckets(period: &Period, tz: Tz) -> (Step, Vec<Bucket>) {
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).naive_local();
    let first_day = local(period.from).date();
    let last_day = local(period.to - chrono::Duration::milliseconds(1)).date();
    let clip = |a: DateTime<Utc>, b: DateTime<Utc>| (a.max(period.from), b.min(period.to));
    let mut out = Vec::new();
    if period.from >= period.to {
        return (Step::Day, out);
    }
    if first_day == last_day {
        let mut at = period.from;
        while at < period.to {
            let next = (at + chrono::Duration::hours(1)).min(period.to);
            out.push((local(at), at, next));
            at = next;
        }
        return (Step::Hour, out);
    }
    if (last_day - first_day).num_days() < MAX_DAILY_BARS {
        let mut day = first_day;
        while day <= last_day {
            let next = day + Days::new(1);
            let (a, b) = clip(local_midnight(tz, day), local_midnight(tz, next));
            out.push((midnight(day), a, b));
            day = next;
        }
        return (Step::Day, out);
    }
    let mut month = first_day.with_day(1).unwrap_or(first_day);
    while month <= last_day {
        let next = month + Months::new(1);
        let (a, b) = clip(local_midnight(tz, month), local_midnight(tz, next));
        out.push((midnight(month), a, b));
        month = next;
    }
    (Step::Month, out)
}

/// The bars of a report, from the same exact sums as its figures.
pub async fn build(
    store: &Store,
    period: &Period,
    filter: &Filter,
    tz: Tz,
) -> Result<Series, DbError> {
    let (step, buckets) = buckets(period, tz);
    let mut currencies: BTreeMap<String, Vec<Bar>> = BTreeMap::new();
    for (i, (_, from, to)) in buckets.iter().enumerate() {
        for f in figures(store, millis(*from), millis(*to), filter).await? {
            if f.gross == 0 && f.refunded == 0 {
                continue;
            }
            let bars = currencies
                .entry(f.currency.clone())
                .or_insert_with(|| vec![Bar::default(); buckets.len()]);
            bars[i] = Bar {
                gross: f.gross,
                refunded: f.refunded,
            };
        }
    }
    Ok(Series {
        step,
        starts: buckets.into_iter().map(|(start, _, _)| start).collect(),
        currencies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn period(from: &str, to: &str) -> Period {
        Period {
            label: "p".into(),
            from: at(from),
            to: at(to),
            comparison: None,
        }
    }

    #[test]
    fn a_day_is_drawn_by_the_hour_on_the_sellers_clock() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let (step, b) = buckets(
            &period("2026-11-22T23:00:00Z", "2026-11-23T13:05:00Z"),
            paris,
        );
        assert_eq!(step, Step::Hour);
        assert_eq!(b.len(), 15, "00:00 to 14:05 in Paris");
        assert_eq!(b[0].0.format("%H:%M").to_string(), "00:00");
        assert_eq!(b[14].2, at("2026-11-23T13:05:00Z"), "the last bar ends now");
    }

    #[test]
    fn every_day_of_a_month_gets_a_bar() {
        let (step, b) = buckets(
            &period("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
            Tz::UTC,
        );
        assert_eq!((step, b.len()), (Step::Day, 30));
        let (step, b) = buckets(
            &period("2025-03-14T00:00:00Z", "2026-11-23T10:00:00Z"),
            Tz::UTC,
        );
        assert_eq!(step, Step::Month);
        assert_eq!(b.len(), 21, "March 2025 to November 2026");
        assert_eq!(b[0].1, at("2025-03-14T00:00:00Z"), "cut to the period");
    }
}
