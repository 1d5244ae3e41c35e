//! Sales statistics: periods in the seller's time zone, per-currency figures (never summed across
//! currencies), read from hourly roll-ups plus exact raw edges, so a report over years of history
//! stays fast. Shared by `/stats`, `/export` and the `stats` CLI.

use std::collections::{BTreeMap, HashMap};

use chrono_tz::Tz;
use serde::Serialize;

use crate::db::{millis, DbError, Grain, MoneyRow, Store};
use crate::domain::Money;

pub mod chart;
mod period;
pub mod series;
pub mod window;
pub mod words;

#[cfg(test)]
mod agreement_tests;

pub(crate) use period::{local_midnight, midnight};
pub use period::{Period, PeriodError, PERIODS};
pub use window::Window;

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

    /// Rounded to the nearest minor unit, halves away from zero.
    pub fn average_order(&self) -> Option<i64> {
        words::div_round(self.gross, self.sales).filter(|_| self.sales > 0)
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
    /// Sales and refunds per hour, day or month and currency, for the chart.
    pub chart: series::Series,
    /// The seller's time zone, which the period's days and the chart follow.
    #[serde(serialize_with = "tz_name")]
    pub time_zone: Tz,
}

fn tz_name<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
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

/// Orders and quantity per product over `[from, to)`, as the plan reads them.
async fn top_product_rows(
    store: &Store,
    from: i64,
    to: i64,
    filter: &Filter,
) -> Result<Vec<(String, i64, i64)>, DbError> {
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
    Ok(by.into_iter().map(|(p, (o, q))| (p, o, q)).collect())
}

async fn top_products(
    store: &Store,
    from: i64,
    to: i64,
    filter: &Filter,
) -> Result<Vec<ProductFigures>, DbError> {
    let by = top_product_rows(store, from, to, filter).await?;
    let mut out: Vec<ProductFigures> = by
        .into_iter()
        .map(|(product, orders, quantity)| ProductFigures {
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
    let period = period
        .clone()
        .starting_at_first_event(store, filter.provider.as_deref(), tz)
        .await?;
    let (from, to) = (millis(period.from), millis(period.to));
    let currencies = figures(store, from, to, filter).await?;
    let previous = match &period.comparison {
        Some(w) => Some(figures(store, millis(w.from), millis(w.to), filter).await?),
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
    let chart = series::build(store, &period, filter, tz).await?;
    Ok(Report {
        period,
        filter: filter.clone(),
        currencies,
        previous,
        subscriptions_started: started,
        subscriptions_cancelled: cancelled,
        subscriptions_active: active,
        top_products: top,
        risks,
        chart,
        time_zone: tz,
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

    /// "1–23 Oct: +12.0 % (was $294.50)": this currency's net against the comparison window.
    pub fn comparison_line(&self, f: &Figures) -> Option<String> {
        let window = self.period.comparison.as_ref()?;
        let before = self.previous_for(&f.currency)?.net();
        let pct = change(f.net(), before)?;
        Some(format!("{}: {pct} (was {})", window.label, f.money(before)))
    }

    /// A plain-text rendering for the terminal, in the seller's time zone.
    pub fn to_text(&self) -> String {
        let tz = self.time_zone;
        let mut out = format!(
            "Sales report: {} ({} to {}, {})\n",
            self.period.label,
            window::local_time(self.period.from, tz),
            window::local_time(self.period.to, tz),
            tz.name()
        );
        if let Some(p) = &self.filter.provider {
            out.push_str(&format!("store: {p}\n"));
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
            if let Some(c) = self.comparison_line(f) {
                out.push_str(&format!("  net vs {c}\n"));
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
                    "  {}. {} ({}, {})\n",
                    i + 1,
                    p.product,
                    words::count(p.orders, "order", "orders"),
                    words::count(p.quantity, "unit", "units")
                ));
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
