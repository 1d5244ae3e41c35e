//! Roll-ups: the sums `/stats` reads instead of scanning every sale. Each batch's deltas are
//! summed here in memory first, so a batch writes one row per bucket it touches, not one per
//! event.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};

use crate::domain::{Item, Money, Sale};

pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// Roll-up granularity: UTC hours, days and months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Hour,
    Day,
    Month,
}

pub(crate) const GRAINS: [Grain; 3] = [Grain::Hour, Grain::Day, Grain::Month];

impl Grain {
    pub fn code(self) -> &'static str {
        match self {
            Grain::Hour => "h",
            Grain::Day => "d",
            Grain::Month => "m",
        }
    }

    /// The start of the bucket holding `at` (unix ms).
    pub fn floor(self, at: i64) -> i64 {
        match self {
            Grain::Hour => at - at.rem_euclid(HOUR_MS),
            Grain::Day => at - at.rem_euclid(DAY_MS),
            Grain::Month => {
                let day = DateTime::<Utc>::from_timestamp_millis(at)
                    .unwrap_or_default()
                    .date_naive();
                let first = day.with_day(1).unwrap_or(day);
                first
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    .and_utc()
                    .timestamp_millis()
            }
        }
    }

    /// The start of the first bucket at or after `at`.
    pub fn ceil(self, at: i64) -> i64 {
        let f = self.floor(at);
        if f == at {
            return at;
        }
        match self {
            Grain::Hour => f + HOUR_MS,
            Grain::Day => f + DAY_MS,
            Grain::Month => Grain::Month.floor(f + 32 * DAY_MS),
        }
    }
}

/// One `rollup_money` row's deltas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MoneyDelta {
    pub sales: i64,
    pub gross: i64,
    pub fees: i64,
    pub refunds: i64,
    pub refunded: i64,
}

/// One `rollup_products` row's deltas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ProductDelta {
    pub orders: i64,
    pub quantity: i64,
}

/// (grain, bucket start, provider, currency or product name).
pub(crate) type BucketKey = (Grain, i64, String, String);

/// Roll-up deltas of one batch, per bucket. Sorted, so every transaction writes buckets in the
/// same order and two instances cannot deadlock on them.
#[derive(Default)]
pub(crate) struct Rollups {
    pub money: BTreeMap<BucketKey, MoneyDelta>,
    pub products: BTreeMap<BucketKey, ProductDelta>,
}

impl Rollups {
    pub fn sale(&mut self, at: i64, provider: &str, sale: &Sale) {
        for grain in GRAINS {
            let key = (
                grain,
                grain.floor(at),
                provider.to_owned(),
                sale.total.currency.clone(),
            );
            let m = self.money.entry(key).or_default();
            m.sales += 1;
            m.gross = m.gross.saturating_add(sale.total.minor);
            m.fees = m.fees.saturating_add(sale.fees_minor.unwrap_or(0));
        }
        self.items(at, provider, &sale.items);
    }

    /// One sale's items: a product is one order however many lines of it the sale holds (two
    /// variants of one product), as the report from raw rows counts distinct sales.
    pub fn items(&mut self, at: i64, provider: &str, items: &[Item]) {
        for grain in GRAINS {
            let mut seen = std::collections::HashSet::new();
            for item in items {
                let key = (
                    grain,
                    grain.floor(at),
                    provider.to_owned(),
                    item.name.clone(),
                );
                let p = self.products.entry(key).or_default();
                p.orders += i64::from(seen.insert(item.name.as_str()));
                p.quantity = p.quantity.saturating_add(i64::from(item.quantity));
            }
        }
    }

    /// Fees a later event brought to a sale recorded without them.
    pub fn late_fees(&mut self, at: i64, provider: &str, currency: &str, fees: i64) {
        for grain in GRAINS {
            let key = (
                grain,
                grain.floor(at),
                provider.to_owned(),
                currency.to_owned(),
            );
            let m = self.money.entry(key).or_default();
            m.fees = m.fees.saturating_add(fees);
        }
    }

    pub fn refund(&mut self, at: i64, provider: &str, amount: &Money) {
        for grain in GRAINS {
            let key = (
                grain,
                grain.floor(at),
                provider.to_owned(),
                amount.currency.clone(),
            );
            let m = self.money.entry(key).or_default();
            m.refunds += 1;
            m.refunded = m.refunded.saturating_add(amount.minor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_buckets_start_on_the_first_at_midnight_utc() {
        // 2024-02-29T13:45:00Z
        let at = 1_709_214_300_000;
        let start = Grain::Month.floor(at);
        assert_eq!(start, 1_706_745_600_000); // 2024-02-01T00:00:00Z
        assert_eq!(Grain::Month.ceil(at), 1_709_251_200_000); // 2024-03-01
        assert_eq!(Grain::Month.ceil(start), start);
    }

    #[test]
    fn hours_and_days_before_1970_floor_downwards() {
        assert_eq!(Grain::Hour.floor(-1), -HOUR_MS);
        assert_eq!(Grain::Day.floor(-1), -DAY_MS);
    }
}
