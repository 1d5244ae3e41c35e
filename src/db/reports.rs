//! The reads behind `/stats`, `/sales`, `/botinfo` and the metrics, on whichever backend.

use super::{
    DbError, Grain, MetricCounts, MoneyRow, OutboxCounts, OutboxRow, RecentQuery, RiskRow, Store,
    StoredEvent, TableCounts,
};

impl Store {
    pub async fn metric_counts(&self) -> Result<MetricCounts, DbError> {
        on_backend!(self, metric_counts())
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts, DbError> {
        on_backend!(self, outbox_counts())
    }

    pub async fn outbox_rows(&self) -> Result<Vec<OutboxRow>, DbError> {
        on_backend!(self, outbox_rows())
    }

    pub async fn table_counts(&self) -> Result<TableCounts, DbError> {
        on_backend!(self, table_counts())
    }

    /// Sums over roll-up buckets of `grain` starting in `[from, to)`.
    pub async fn money_rollup(
        &self,
        grain: Grain,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<Vec<MoneyRow>, DbError> {
        on_backend!(self, money_rollup(grain.code(), from, to, provider))
    }

    pub async fn money_raw(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
        product: Option<&str>,
    ) -> Result<Vec<MoneyRow>, DbError> {
        on_backend!(self, money_raw(from, to, provider, product))
    }

    pub async fn products_rollup(
        &self,
        grain: Grain,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<Vec<(String, i64, i64)>, DbError> {
        on_backend!(self, products_rollup(grain.code(), from, to, provider))
    }

    pub async fn products_raw(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<Vec<(String, i64, i64)>, DbError> {
        on_backend!(self, products_raw(from, to, provider))
    }

    /// (started in range, cancelled in range, active now).
    pub async fn subscription_counts(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
    ) -> Result<(i64, i64, i64), DbError> {
        on_backend!(self, subscription_counts(from, to, provider))
    }

    /// (bucket start, currency, gross) for charts from `grain` buckets; hourly from the raw
    /// rows when filtering by product, which has no roll-up.
    pub async fn gross_series(
        &self,
        grain: Grain,
        from: i64,
        to: i64,
        provider: Option<&str>,
        product: Option<&str>,
    ) -> Result<Vec<(i64, String, i64)>, DbError> {
        on_backend!(
            self,
            gross_series(grain.code(), from, to, provider, product)
        )
    }

    /// Refunds flagged as chargebacks or fraud in `[from, to)`, per currency and flag.
    pub async fn risk_counts(
        &self,
        from: i64,
        to: i64,
        provider: Option<&str>,
        product: Option<&str>,
    ) -> Result<Vec<RiskRow>, DbError> {
        on_backend!(self, risk_counts(from, to, provider, product))
    }

    /// A page of events and the total matching.
    pub async fn recent(&self, q: &RecentQuery<'_>) -> Result<(Vec<StoredEvent>, i64), DbError> {
        on_backend!(self, recent(q))
    }

    pub async fn last_received(&self) -> Result<Option<i64>, DbError> {
        on_backend!(self, last_received())
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        on_backend!(self, ping())
    }

    /// When the earliest listed event happened (tests and unannounced kinds aside, as in
    /// [`Store::recent`]), so "all time" starts at the shop's first event rather than in 1970.
    pub async fn first_event_at(&self, provider: Option<&str>) -> Result<Option<i64>, DbError> {
        on_backend!(self, first_event_at(provider))
    }
}
