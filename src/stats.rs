//! Sales statistics: periods in the seller's time zone, per-currency figures (never summed across
//! currencies), read from hourly roll-ups plus exact raw edges, so a report over years of history
//! stays fast. Shared by `/stats`, `/export` and the `stats` CLI.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::db::{millis, DbError, Grain, MoneyRow, Store, DAY_MS};
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

/// Refunds that were chargebacks or fraud, in one currency: already counted among the refunds,
/// shown again on their own so they are not lost in ordinary returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RiskFigures {
    pub currency: String,
    pub chargebacks: i64,
    pub chargeback_minor: i64,
    pub fraud: i64,
    pub fraud_minor: i64,
}

impl RiskFigures {
    /// "Chargebacks: 1 ($24.99) · Fraud: 2 ($10.00)", leaving out a zero part.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        if self.chargebacks > 0 {
            let m = Money::new(self.chargeback_minor, self.currency.clone());
            parts.push(format!("Chargebacks: {} ({m})", self.chargebacks));
        }
        if self.fraud > 0 {
            let m = Money::new(self.fraud_minor, self.currency.clone());
            parts.push(format!("Fraud: {} ({m})", self.fraud));
        }
        parts.join(" · ")
    }
}

fn risk_figures(rows: Vec<crate::db::RiskRow>) -> Vec<RiskFigures> {
    let mut by: BTreeMap<String, RiskFigures> = BTreeMap::new();
    for (currency, risk, count, minor) in rows {
        let f = by.entry(currency.clone()).or_insert_with(|| RiskFigures {
            currency,
            ..RiskFigures::default()
        });
        match risk.as_str() {
            "chargeback" => {
                f.chargebacks += count;
                f.chargeback_minor += minor;
            }
            _ => {
                f.fraud += count;
                f.fraud_minor += minor;
            }
        }
    }
    by.into_values().collect()
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
    /// Chargebacks and fraud per currency; empty when there were none.
    pub risks: Vec<RiskFigures>,
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

/// Where each part of `[from, to)` is read from: `None` for the raw tables (minutes at the ends),
/// else the coarsest roll-up grain whose buckets fit exactly. A year reads about a dozen month
/// buckets, a few days and hours at its ends, and two raw slivers.
fn plan(from: i64, to: i64) -> Vec<(Option<Grain>, Span)> {
    fn go(level: Option<Grain>, from: i64, to: i64, out: &mut Vec<(Option<Grain>, Span)>) {
        if from >= to {
            return;
        }
        let next = match level {
            None => Grain::Hour,
            Some(Grain::Hour) => Grain::Day,
            Some(Grain::Day) => Grain::Month,
            Some(Grain::Month) => {
                out.push((level, (from, to)));
                return;
            }
        };
        let (a, b) = (next.ceil(from), next.floor(to));
        if a >= b {
            out.push((level, (from, to)));
            return;
        }
        if from < a {
            out.push((level, (from, a)));
        }
        go(Some(next), a, b, out);
        if b < to {
            out.push((level, (b, to)));
        }
    }
    let mut out = Vec::new();
    go(None, from, to, &mut out);
    out
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
    let mut rows = Vec::new();
    for (grain, (a, b)) in plan(from, to) {
        rows.extend(match grain {
            Some(g) => store.money_rollup(g, a, b, provider).await?,
            None => store.money_raw(a, b, provider, None).await?,
        });
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
    let mut rows = Vec::new();
    for (grain, (a, b)) in plan(from, to) {
        rows.extend(match grain {
            Some(g) => store.products_rollup(g, a, b, provider).await?,
            None => store.products_raw(a, b, provider).await?,
        });
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
    let risks = risk_figures(
        store
            .risk_counts(
                from,
                to,
                filter.provider.as_deref(),
                filter.product.as_deref(),
            )
            .await?,
    );
    // Hours map exactly onto the seller's days; past two months, UTC days are close enough for
    // a chart and far fewer rows.
    let grain = if to - from > 62 * DAY_MS {
        Grain::Day
    } else {
        Grain::Hour
    };
    let mut daily: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for (bucket, currency, gross) in store
        .gross_series(
            grain,
            grain.floor(from),
            to,
            filter.provider.as_deref(),
            filter.product.as_deref(),
        )
        .await?
    {
        let day = DateTime::<Utc>::from_timestamp_millis(bucket)
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
        risks,
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

    pub fn risk_for(&self, currency: &str) -> Option<&RiskFigures> {
        self.risks.iter().find(|r| r.currency == currency)
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
            if let Some(r) = self.risk_for(&f.currency) {
                out.push_str(&format!("  of which         {}\n", r.line()));
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
    fn ranges_are_read_from_the_coarsest_exact_buckets() {
        let ms = |s: &str| millis(at(s));
        let p = plan(ms("2025-11-14T10:17:00Z"), ms("2026-02-03T05:00:00Z"));
        let show: Vec<(Option<Grain>, String, String)> = p
            .iter()
            .map(|(g, (a, b))| {
                let f = |x: &i64| {
                    DateTime::<Utc>::from_timestamp_millis(*x)
                        .unwrap()
                        .format("%m-%d %H:%M")
                        .to_string()
                };
                (*g, f(a), f(b))
            })
            .collect();
        assert_eq!(
            show,
            vec![
                (None, "11-14 10:17".into(), "11-14 11:00".into()),
                (
                    Some(Grain::Hour),
                    "11-14 11:00".into(),
                    "11-15 00:00".into()
                ),
                (Some(Grain::Day), "11-15 00:00".into(), "12-01 00:00".into()),
                (
                    Some(Grain::Month),
                    "12-01 00:00".into(),
                    "02-01 00:00".into()
                ),
                (Some(Grain::Day), "02-01 00:00".into(), "02-03 00:00".into()),
                (
                    Some(Grain::Hour),
                    "02-03 00:00".into(),
                    "02-03 05:00".into()
                ),
            ]
        );
        let short = plan(ms("2026-01-01T10:05:00Z"), ms("2026-01-01T10:09:00Z"));
        assert_eq!(
            short,
            vec![(
                None,
                (ms("2026-01-01T10:05:00Z"), ms("2026-01-01T10:09:00Z"))
            )]
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
