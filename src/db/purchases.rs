//! How an event becomes facts in the tables stats read (sales, refunds, subscriptions and their
//! roll-ups), with the rules that keep one purchase one sale:
//!
//! - A sale is keyed by store and transaction id. A second event for the same purchase (Xsolla's
//!   `payment` and `order_paid`, in either order) is merged into the first: it may add items or
//!   fees the first lacked, and is never counted or announced again.
//! - A refund of the whole purchase counts once however many events describe it (`refund` and
//!   `order_canceled`); partial refunds each count; a report of everything refunded so far
//!   (Lemon Squeezy's `order_refunded`) counts what it adds.
//! - Money paid in a game's virtual currency is recorded as an event only, never in money tables.
//! - A subscription's state follows the store's own dates; a cancellation is final for updates and
//!   undone only by a start the store dates after it.
//!
//! The queries are compiled for each backend by [`purchase_queries!`], expanded inside `backend!`.

use super::Rollups;
use crate::domain::{Item, Sale};

/// What recording an event's facts found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Facts {
    /// Recorded, or nothing to record: the event is announced.
    Fresh,
    /// Already recorded under the event with this id: kept for the record only.
    Merged(i64),
}

impl Rollups {
    /// Products a merged event brought to a sale recorded without any.
    pub(super) fn late_items(&mut self, at: i64, provider: &str, items: &[Item]) {
        for grain in super::GRAINS {
            for item in items {
                let key = (
                    grain,
                    grain.floor(at),
                    provider.to_owned(),
                    item.name.clone(),
                );
                let p = self.products.entry(key).or_default();
                p[0] += 1;
                p[1] = p[1].saturating_add(i64::from(item.quantity));
            }
        }
    }

    /// Fees a merged event brought to a sale recorded without them.
    pub(super) fn late_fees(&mut self, at: i64, provider: &str, sale: &Sale, fees: i64) {
        for grain in super::GRAINS {
            let key = (
                grain,
                grain.floor(at),
                provider.to_owned(),
                sale.total.currency.clone(),
            );
            let m = self.money.entry(key).or_default();
            m[2] = m[2].saturating_add(fees);
        }
    }
}

/// Chargebacks and fraud per currency: (currency, risk, refunds, amount).
pub type RiskRow = (String, String, i64, i64);

/// Expands to the purchase queries inside a backend module, where `Tx`, `Db` and the crate's
/// types are in scope.
macro_rules! purchase_queries {
    () => {
        /// The queryable tables behind stats; test events never reach them.
        pub(super) async fn record_facts(tx: &mut Tx<'_>, event_id: i64, e: &Event, rollups: &mut Rollups) -> Result<Facts, DbError> {
            let at = millis(e.occurred_at);
            match &e.detail {
                Detail::Sale(s) if !s.total.virtual_currency => record_sale(tx, event_id, e, s, at, rollups).await,
                Detail::Refund(r) if !r.amount.virtual_currency => record_refund(tx, event_id, e, r, at, rollups).await,
                Detail::Subscription(s) => {
                    record_subscription(tx, event_id, e, s, at).await?;
                    Ok(Facts::Fresh)
                }
                _ => Ok(Facts::Fresh),
            }
        }

        async fn record_sale(tx: &mut Tx<'_>, event_id: i64, e: &Event, s: &crate::domain::Sale, at: i64, rollups: &mut Rollups) -> Result<Facts, DbError> {
            let recorded: Option<i64> = sqlx::query_scalar(
                "INSERT INTO sales (event_id, provider, external_id, occurred_at, total_minor, \
                 currency, fees_minor, payment_method) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (provider, external_id) DO NOTHING RETURNING event_id",
            )
            .bind(event_id)
            .bind(&e.provider)
            .bind(&e.external_id)
            .bind(at)
            .bind(s.total.minor)
            .bind(&s.total.currency)
            .bind(s.fees_minor)
            .bind(&s.payment_method)
            .fetch_optional(&mut **tx)
            .await?;
            if recorded.is_none() {
                return merge_sale(tx, e, s, rollups).await;
            }
            rollups.sale(at, &e.provider, s);
            // A refund can arrive first (stores retry out of order): link it now.
            sqlx::query(
                "UPDATE refunds SET sale_event_id = $1 \
                 WHERE provider = $2 AND sale_external_id = $3 AND sale_event_id IS NULL",
            )
            .bind(event_id)
            .bind(&e.provider)
            .bind(&e.external_id)
            .execute(&mut **tx)
            .await?;
            insert_items(tx, event_id, &s.items).await?;
            for c in &s.coupons {
                sqlx::query(
                    "INSERT INTO sale_coupons (sale_event_id, code, percentage, amount_minor) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(event_id)
                .bind(&c.code)
                .bind(&c.percentage)
                .bind(c.amount_minor)
                .execute(&mut **tx)
                .await?;
            }
            Ok(Facts::Fresh)
        }

        /// The purchase is already recorded under another event: this one only fills in items
        /// or fees the first lacked, counted at the first one's time.
        async fn merge_sale(tx: &mut Tx<'_>, e: &Event, s: &crate::domain::Sale, rollups: &mut Rollups) -> Result<Facts, DbError> {
            let held: Option<(i64, i64, String, Option<i64>)> = sqlx::query_as(
                "SELECT event_id, occurred_at, currency, fees_minor FROM sales \
                 WHERE provider = $1 AND external_id = $2",
            )
            .bind(&e.provider)
            .bind(&e.external_id)
            .fetch_optional(&mut **tx)
            .await?;
            let Some((held_by, at, currency, fees)) = held else {
                return Ok(Facts::Fresh);
            };
            if !s.items.is_empty() {
                let lines: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sale_items WHERE sale_event_id = $1")
                    .bind(held_by)
                    .fetch_one(&mut **tx)
                    .await?;
                if lines == 0 {
                    insert_items(tx, held_by, &s.items).await?;
                    rollups.late_items(at, &e.provider, &s.items);
                }
            }
            if let (None, Some(late), true) = (fees, s.fees_minor, currency == s.total.currency) {
                sqlx::query("UPDATE sales SET fees_minor = $1 WHERE event_id = $2")
                    .bind(late)
                    .bind(held_by)
                    .execute(&mut **tx)
                    .await?;
                rollups.late_fees(at, &e.provider, s, late);
            }
            Ok(Facts::Merged(held_by))
        }

        async fn insert_items(tx: &mut Tx<'_>, sale_event_id: i64, items: &[crate::domain::Item]) -> Result<(), DbError> {
            for item in items {
                sqlx::query(
                    "INSERT INTO sale_items (sale_event_id, product_id, product_name, quantity, \
                     variant, amount_minor) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(sale_event_id)
                .bind(&item.product_id)
                .bind(&item.name)
                .bind(i64::from(item.quantity))
                .bind(&item.variant)
                .bind(item.amount_minor)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        async fn record_refund(tx: &mut Tx<'_>, event_id: i64, e: &Event, r: &crate::domain::Refund, at: i64, rollups: &mut Rollups) -> Result<Facts, DbError> {
            let (amount, whole) = match r.scope {
                crate::domain::RefundScope::Cumulative => match cumulative_part(tx, event_id, e, r).await? {
                    Some(amount) => (amount, false),
                    None => {
                        // Counted already, under a report of as much or more.
                        let held_by: Option<i64> = sqlx::query_scalar(
                            "SELECT MAX(event_id) FROM refunds WHERE provider = $1 AND sale_external_id = $2",
                        )
                        .bind(&e.provider)
                        .bind(&r.sale_external_id)
                        .fetch_one(&mut **tx)
                        .await?;
                        return Ok(held_by.map_or(Facts::Fresh, Facts::Merged));
                    }
                },
                scope => (r.amount.clone(), scope == crate::domain::RefundScope::Whole),
            };
            let recorded: Option<i64> = sqlx::query_scalar(
                "INSERT INTO refunds (event_id, provider, sale_external_id, sale_event_id, \
                 occurred_at, amount_minor, currency, risk, whole_purchase) VALUES ($1, $2, $3, \
                 (SELECT event_id FROM sales WHERE provider = $2 AND external_id = $3), $4, $5, $6, $7, $8) \
                 ON CONFLICT DO NOTHING RETURNING event_id",
            )
            .bind(event_id)
            .bind(&e.provider)
            .bind(&r.sale_external_id)
            .bind(at)
            .bind(amount.minor)
            .bind(&amount.currency)
            .bind(r.risk.map(crate::domain::Risk::as_str))
            .bind(whole)
            .fetch_optional(&mut **tx)
            .await?;
            if recorded.is_none() {
                // The whole purchase was already refunded under another event.
                let held_by: Option<i64> = sqlx::query_scalar(
                    "SELECT event_id FROM refunds WHERE provider = $1 AND sale_external_id = $2 AND whole_purchase",
                )
                .bind(&e.provider)
                .bind(&r.sale_external_id)
                .fetch_optional(&mut **tx)
                .await?;
                return Ok(held_by.map_or(Facts::Fresh, Facts::Merged));
            }
            rollups.refund(at, &e.provider, &amount);
            Ok(Facts::Fresh)
        }

        /// What a report of everything refunded so far adds to the refunds counted for its sale,
        /// or `None` when it adds nothing. The stored event is rewritten to that amount, so its
        /// notice, `/sales` and `/export` show what this refund gave back.
        async fn cumulative_part(tx: &mut Tx<'_>, event_id: i64, e: &Event, r: &crate::domain::Refund) -> Result<Option<crate::domain::Money>, DbError> {
            let counted: Option<i64> = sqlx::query_scalar(
                "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM refunds \
                 WHERE provider = $1 AND sale_external_id = $2 AND currency = $3",
            )
            .bind(&e.provider)
            .bind(&r.sale_external_id)
            .bind(&r.amount.currency)
            .fetch_one(&mut **tx)
            .await?;
            let new = r.amount.minor.saturating_sub(counted.unwrap_or(0));
            if new <= 0 {
                return Ok(None);
            }
            let mut part = r.clone();
            part.amount.minor = new;
            let whole = r.original_total.as_ref().is_some_and(|t| t.minor == new);
            part.scope = if whole { crate::domain::RefundScope::Whole } else { crate::domain::RefundScope::Partial };
            let mut shown = e.clone();
            shown.detail = Detail::Refund(part.clone());
            let data = serde_json::to_string(&shown).map_err(|source| DbError::Corrupt { id: event_id, source })?;
            sqlx::query("UPDATE events SET amount_minor = $1, data = $2 WHERE id = $3")
                .bind(new)
                .bind(data)
                .bind(event_id)
                .execute(&mut **tx)
                .await?;
            Ok(Some(part.amount))
        }

        /// Each event is placed in the subscription's history by the store's own date (start,
        /// end, next charge), never by when it arrived, and among active states the latest wins.
        /// A cancellation is final for updates: Xsolla's carry no date of their own, so one that
        /// arrives after a cancellation may well have been sent before it. Only a start dated after
        /// the cancellation reopens the subscription.
        async fn record_subscription(tx: &mut Tx<'_>, event_id: i64, e: &Event, s: &crate::domain::Subscription, at: i64) -> Result<(), DbError> {
            let (status, dated_at) = match e.kind {
                EventKind::SubscriptionCancelled => ("cancelled".to_owned(), Some(s.cancelled_at.map_or(at, millis))),
                EventKind::SubscriptionStarted => ("active".to_owned(), Some(s.started_at.map_or(at, millis))),
                EventKind::SubscriptionUpdated => (
                    s.status.clone().unwrap_or_else(|| "active".to_owned()),
                    s.next_charge_at.map(millis),
                ),
                // "Will not renew" changes nothing until the period ends.
                _ => return Ok(()),
            };
            let starts = e.kind == EventKind::SubscriptionStarted;
            let undated = dated_at.is_none();
            sqlx::query(
                "INSERT INTO subscriptions (provider, subscription_id, status, plan, product, \
                 started_at, cancelled_at, updated_at, last_event_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (provider, subscription_id) DO UPDATE SET \
                 status = excluded.status, \
                 plan = COALESCE(excluded.plan, subscriptions.plan), \
                 product = COALESCE(excluded.product, subscriptions.product), \
                 started_at = COALESCE(subscriptions.started_at, excluded.started_at), \
                 cancelled_at = COALESCE(excluded.cancelled_at, subscriptions.cancelled_at), \
                 updated_at = CASE WHEN $11 OR excluded.updated_at < subscriptions.updated_at \
                     THEN subscriptions.updated_at ELSE excluded.updated_at END, \
                 last_event_id = excluded.last_event_id \
                 WHERE CASE \
                     WHEN excluded.status = 'cancelled' THEN NOT (subscriptions.status <> 'cancelled' \
                         AND subscriptions.cancelled_at IS NOT NULL AND subscriptions.updated_at > excluded.updated_at) \
                     WHEN subscriptions.status = 'cancelled' THEN $10 \
                         AND excluded.updated_at > COALESCE(subscriptions.cancelled_at, subscriptions.updated_at) \
                     ELSE $11 OR excluded.updated_at >= subscriptions.updated_at \
                 END",
            )
            .bind(&e.provider)
            .bind(&s.subscription_id)
            .bind(status)
            .bind(&s.plan)
            .bind(&s.product)
            .bind(s.started_at.map(millis))
            .bind(s.cancelled_at.map(millis))
            .bind(dated_at.unwrap_or(at))
            .bind(event_id)
            .bind(starts)
            .bind(undated)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        pub async fn risk_counts(pool: &sqlx::Pool<Db>, from: i64, to: i64, provider: Option<&str>, product: Option<&str>) -> Result<Vec<RiskRow>, DbError> {
            Ok(sqlx::query_as(
                "SELECT currency, risk, COUNT(*), CAST(SUM(amount_minor) AS BIGINT) FROM refunds \
                 WHERE risk IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2 \
                 AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
                 AND (CAST($4 AS TEXT) IS NULL OR sale_event_id IN (SELECT sale_event_id FROM sale_items WHERE product_name = $4)) \
                 GROUP BY currency, risk",
            )
            .bind(from)
            .bind(to)
            .bind(provider)
            .bind(product)
            .fetch_all(pool)
            .await?)
        }
    };
}
