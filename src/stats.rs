//! Sales statistics: periods in the seller's time zone, per-currency figures (never summed across
//! currencies), read from hourly roll-ups plus exact raw edges, so a report over years of history
//! stays fast. Shared by `/stats`, `/export` and the `stats` CLI.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::db::{hour_of, millis, DbError, MoneyRow, Store, HOUR_MS};
use crate::domain::Money;

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
    /// Whether a "previous period of the same length" makes sense (not for `all`).
    pub comparable: bool,
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

fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Midnight can fall in a DST gap; the earliest valid instant of the day is then used.
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
        let today = now.with_timezone(&tz).date_naive();
        if from.is_some() || to.is_some() {
            let start = match from {
                Some(f) => local_midnight(tz, parse_date(f)?),
                None => DateTime::<Utc>::UNIX_EPOCH,
            };
            let end = match to {
                Some(t) => local_midnight(tz, parse_date(t)? + Days::new(1)),
                None => now,
            };
            if start >= end {
                return Err(PeriodError::Reversed);
            }
            let label = format!(
                "{} to {}",
                from.unwrap_or("the beginning"),
                to.unwrap_or("now")
            );
            return Ok(Period {
                label,
                from: start,
                to: end,
                comparable: from.is_some(),
            });
        }
        let name = name.unwrap_or("month");
        let first_of_month = today.with_day(1).unwrap_or(today);
        let (from, to, comparable) = match name {
            "today" => (local_midnight(tz, today), now, true),
            "yesterday" => (
                local_midnight(tz, today - Days::new(1)),
                local_midnight(tz, today),
                true,
            ),
            "week" => (local_midnight(tz, today - Days::new(6)), now, true),
            "month" => (local_midnight(tz, first_of_month), now, true),
            "last-month" => (
                local_midnight(tz, first_of_month - Months::new(1)),
                local_midnight(tz, first_of_month),
                true,
            ),
            "year" => (
                local_midnight(tz, today.with_ordinal(1).unwrap_or(today)),
                now,
                true,
            ),
            "all" => (DateTime::<Utc>::UNIX_EPOCH, now, false),
            other => return Err(PeriodError::Unknown(other.to_owned())),
        };
        Ok(Period {
            label: name.to_owned(),
            from,
            to,
            comparable,
        })
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Option<Period> {
        self.comparable.then(|| {
            let len = self.to - self.from;
            Period {
                label: format!("previous {}", self.label),
                from: self.from - len,
                to: self.from,
                comparable: false,
            }
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Filter {
    pub provider: Option<String>,
    pub product: Option<String>,
}

/// One currency's figures. Amounts in minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub currency: String,
    pub sales: i64,
    pub gross: i64,
    pub fees: i64,
    pub refunds: i64,
    pub refunded: i64,
}

impl Figures {
    pub fn net(&self) -> i64 {
        self.gross - self.refunded
    }

    pub fn average_order(&self) -> Option<i64> {
        (self.sales > 0).then(|| self.gross / self.sales)
    }

    /// Refunds per hundred sales.
    pub fn refund_rate(&self) -> Option<f64> {
        (self.sales > 0).then(|| self.refunds as f64 * 100.0 / self.sales as f64)
    }

    pub fn money(&self, minor: i64) -> Money {
        Money::new(minor, self.currency.clone())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductFigures {
    pub product: String,
    pub orders: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: Period,
    pub filter: Filter,
    pub currencies: Vec<Figures>,
    pub previous: Option<Vec<Figures>>,
    pub subscriptions_started: i64,
    pub subscriptions_cancelled: i64,
    pub subscriptions_active: i64,
    pub top_products: Vec<ProductFigures>,
    /// Gross per local day and currency, for the chart.
    pub daily: BTreeMap<NaiveDate, BTreeMap<String, i64>>,
}

fn merge(rows: impl IntoIterator<Item = MoneyRow>) -> Vec<Figures> {
    let mut by: BTreeMap<String, Figures> = BTreeMap::new();
    for (currency, sales, gross, fees, refunds, refunded) in rows {
        let f = by.entry(currency.clone()).or_insert_with(|| Figures {
            currency,
            ..Figures::default()
        });
        f.sales += sales;
        f.gross += gross;
        f.fees += fees;
        f.refunds += refunds;
        f.refunded += refunded;
    }
    by.into_values().collect()
}

/// The split of `[from, to)` into whole roll-up hours and the raw edges around them.
/// A half-open range of unix milliseconds.
type Span = (i64, i64);

fn split(from: i64, to: i64) -> (Option<Span>, Vec<Span>) {
    let first_full = hour_of(from + HOUR_MS - 1);
    let last_full = hour_of(to);
    if first_full >= last_full {
        return (None, vec![(from, to)]);
    }
    let edges = [(from, first_full), (last_full, to)]
        .into_iter()
        .filter(|(a, b)| a < b)
        .collect();
    (Some((first_full, last_full)), edges)
}

async fn figures(
    store: &Store,
    from: i64,
    to: i64,
    filter: &Filter,
) -> Result<Vec<Figures>, DbError> {
    let provider = filter.provider.as_deref();
    if let Some(product) = filter.product.as_deref() {
        return Ok(merge(
            store.money_raw(from, to, provider, Some(product)).await?,
        ));
    }
    let (full, edges) = split(from, to);
    let mut rows = Vec::new();
    if let Some((a, b)) = full {
        rows.extend(store.money_rollup(a, b, provider).await?);
    }
    for (a, b) in edges {
        rows.extend(store.money_raw(a, b, provider, None).await?);
    }
    Ok(merge(rows))
}

async fn top_products(
    store: &Store,
    from: i64,
    to: i64,
    filter: &Filter,
) -> Result<Vec<ProductFigures>, DbError> {
    let provider = filter.provider.as_deref();
    let (full, edges) = split(from, to);
    let mut rows = Vec::new();
    if let Some((a, b)) = full {
        rows.extend(store.products_rollup(a, b, provider).await?);
    }
    for (a, b) in edges {
        rows.extend(store.products_raw(a, b, provider).await?);
    }
    let mut by: HashMap<String, (i64, i64)> = HashMap::new();
    for (product, orders, quantity) in rows {
        let e = by.entry(product).or_default();
        e.0 += orders;
        e.1 += quantity;
    }
    let mut out: Vec<ProductFigures> = by
        .into_iter()
        .map(|(product, (orders, quantity))| ProductFigures {
            product,
            orders,
            quantity,
        })
        .collect();
    out.sort_by(|a, b| {
        b.orders
            .cmp(&a.orders)
            .then(b.quantity.cmp(&a.quantity))
            .then(a.product.cmp(&b.product))
    });
    out.truncate(5);
    Ok(out)
}

/// Builds the full report for a period.
pub async fn report(
    store: &Store,
    period: &Period,
    filter: &Filter,
    tz: Tz,
) -> Result<Report, DbError> {
    let (from, to) = (millis(period.from), millis(period.to));
    let currencies = figures(store, from, to, filter).await?;
    let previous = match period.previous() {
        Some(p) => Some(figures(store, millis(p.from), millis(p.to), filter).await?),
        None => None,
    };
    let (started, cancelled, active) = store
        .subscription_counts(from, to, filter.provider.as_deref())
        .await?;
    let top = top_products(store, from, to, filter).await?;
    let mut daily: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for (hour, currency, gross) in store
        .hourly_gross(
            from,
            to,
            filter.provider.as_deref(),
            filter.product.as_deref(),
        )
        .await?
    {
        let day = DateTime::<Utc>::from_timestamp_millis(hour)
            .unwrap_or_default()
            .with_timezone(&tz)
            .date_naive();
        *daily.entry(day).or_default().entry(currency).or_default() += gross;
    }
    Ok(Report {
        period: period.clone(),
        filter: filter.clone(),
        currencies,
        previous,
        subscriptions_started: started,
        subscriptions_cancelled: cancelled,
        subscriptions_active: active,
        top_products: top,
        daily,
    })
}

/// "+12.5 %" against the previous period, or None when there is nothing to compare.
pub fn change(now: i64, before: i64) -> Option<String> {
    if before == 0 {
        return None;
    }
    let pct = (now - before) as f64 * 100.0 / before as f64;
    Some(format!("{pct:+.1} %"))
}

impl Report {
    pub fn previous_for(&self, currency: &str) -> Option<&Figures> {
        self.previous
            .as_ref()?
            .iter()
            .find(|f| f.currency == currency)
    }

    /// A plain-text rendering for the terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Sales report: {} ({} to {} UTC)\n",
            self.period.label,
            self.period.from.format("%Y-%m-%d %H:%M"),
            self.period.to.format("%Y-%m-%d %H:%M")
        );
        if let Some(p) = &self.filter.provider {
            out.push_str(&format!("provider: {p}\n"));
        }
        if let Some(p) = &self.filter.product {
            out.push_str(&format!("product: {p}\n"));
        }
        if self.currencies.is_empty() {
            out.push_str("\nNo sales in this period.\n");
        }
        for f in &self.currencies {
            out.push_str(&format!("\n[{}]\n", f.currency));
            out.push_str(&format!("  sales            {}\n", f.sales));
            out.push_str(&format!("  gross            {}\n", f.money(f.gross)));
            out.push_str(&format!(
                "  refunds          {} ({})\n",
                f.refunds,
                f.money(f.refunded)
            ));
            out.push_str(&format!("  net              {}\n", f.money(f.net())));
            if let Some(aov) = f.average_order() {
                out.push_str(&format!("  average order    {}\n", f.money(aov)));
            }
            if let Some(rate) = f.refund_rate() {
                out.push_str(&format!("  refund rate      {rate:.1} %\n"));
            }
            if let Some(c) = self
                .previous_for(&f.currency)
                .and_then(|p| change(f.net(), p.net()))
            {
                out.push_str(&format!("  net vs previous  {c}\n"));
            }
        }
        out.push_str(&format!(
            "\nSubscriptions: {} new, {} cancelled, {} active now\n",
            self.subscriptions_started, self.subscriptions_cancelled, self.subscriptions_active
        ));
        if !self.top_products.is_empty() {
            out.push_str("\nTop products:\n");
            for (i, p) in self.top_products.iter().enumerate() {
                out.push_str(&format!(
                    "  {}. {} ({} orders, {} units)\n",
                    i + 1,
                    p.product,
                    p.orders,
                    p.quantity
                ));
            }
        }
        out
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
            .previous()
            .is_none());
        assert!(Period::resolve(Some("fortnight"), None, None, now, tz).is_err());
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
        assert_eq!(p.previous().unwrap().from, at("2025-12-01T00:00:00Z"));
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

    #[test]
    fn ranges_split_into_whole_hours_and_exact_edges() {
        let h = HOUR_MS;
        assert_eq!(split(10 * h, 12 * h), (Some((10 * h, 12 * h)), vec![]));
        assert_eq!(
            split(10 * h + 5, 12 * h + 7),
            (
                Some((11 * h, 12 * h)),
                vec![(10 * h + 5, 11 * h), (12 * h, 12 * h + 7)]
            )
        );
        assert_eq!(
            split(10 * h + 5, 10 * h + 9),
            (None, vec![(10 * h + 5, 10 * h + 9)])
        );
    }

    #[test]
    fn figures_never_mix_currencies() {
        let f = merge(vec![
            ("USD".into(), 2, 3000, 100, 0, 0),
            ("EUR".into(), 1, 500, 0, 0, 0),
            ("USD".into(), 0, 0, 0, 1, 1000),
        ]);
        assert_eq!(f.len(), 2);
        let usd = f.iter().find(|f| f.currency == "USD").unwrap();
        assert_eq!(
            (usd.net(), usd.average_order(), usd.refund_rate()),
            (2000, Some(1500), Some(50.0))
        );
    }
}
