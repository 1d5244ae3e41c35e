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
//! New sales are written for a whole batch at once by `events.rs`; what is here runs per event,
//! for the rarer kinds and for a purchase already recorded.

use sqlx::QueryBuilder;

use super::{Db, Pool, Tx};
use crate::db::rollup::Rollups;
use crate::db::{millis, DbError, RiskRow};
use crate::domain::{Detail, Event, EventKind, Item};

/// Bind parameters in one statement at most: below SQLite's 32,766 and PostgreSQL's 65,535.
pub(super) const MAX_BINDS: usize = 30_000;

/// What recording an event's facts found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Facts {
    /// Recorded, or nothing to record: the event is announced.
    Fresh,
    /// Already recorded under the event with this id: kept for the record only.
    Merged(i64),
}

/// Refunds and subscriptions; sales are recorded in bulk by the caller.
pub(super) async fn record_facts(
    tx: &mut Tx<'_>,
    event_id: i64,
    e: &Event,
    rollups: &mut Rollups,
) -> Result<Facts, DbError> {
    let at = millis(e.occurred_at);
    match &e.detail {
        Detail::Refund(r) if !r.amount.virtual_currency => {
            record_refund(tx, event_id, e, r, at, rollups).await
        }
        Detail::Subscription(s) => {
            record_subscription(tx, event_id, e, s, at).await?;
            Ok(Facts::Fresh)
        }
        _ => Ok(Facts::Fresh),
    }
}

/// Item lines of any number of sales, in as few statements as the bind limit allows.
pub(super) async fn insert_items(tx: &mut Tx<'_>, rows: &[(i64, &Item)]) -> Result<(), DbError> {
    for chunk in rows.chunks(MAX_BINDS / 6) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO sale_items \
             (sale_event_id, product_id, product_name, quantity, variant, amount_minor) ",
        );
        q.push_values(chunk, |mut row, (sale_event_id, item)| {
            row.push_bind(*sale_event_id)
                .push_bind(item.product_id.as_deref())
                .push_bind(item.name.as_str())
                .push_bind(i64::from(item.quantity))
                .push_bind(item.variant.as_deref())
                .push_bind(item.amount_minor);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The purchase is already recorded under another event: this one only fills in items
/// or fees the first lacked, counted at the first one's time.
pub(super) async fn merge_sale(
    tx: &mut Tx<'_>,
    e: &Event,
    s: &crate::domain::Sale,
    rollups: &mut Rollups,
) -> Result<Facts, DbError> {
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
        let lines: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sale_items WHERE sale_event_id = $1")
                .bind(held_by)
                .fetch_one(&mut **tx)
                .await?;
        if lines == 0 {
            let rows: Vec<_> = s.items.iter().map(|item| (held_by, item)).collect();
            insert_items(tx, &rows).await?;
            rollups.items(at, &e.provider, &s.items);
        }
    }
    if let (None, Some(late), true) = (fees, s.fees_minor, currency == s.total.currency) {
        sqlx::query("UPDATE sales SET fees_minor = $1 WHERE event_id = $2")
            .bind(late)
            .bind(held_by)
            .execute(&mut **tx)
            .await?;
        rollups.late_fees(at, &e.provider, &currency, late);
    }
    Ok(Facts::Merged(held_by))
}

async fn record_refund(
    tx: &mut Tx<'_>,
    event_id: i64,
    e: &Event,
    r: &crate::domain::Refund,
    at: i64,
    rollups: &mut Rollups,
) -> Result<Facts, DbError> {
    let (amount, whole) = match r.scope {
        crate::domain::RefundScope::Cumulative => {
            match cumulative_part(tx, event_id, e, r).await? {
                Some(amount) => (amount, false),
                None => {
                    // Counted already, under a report of as much or more.
                    let held_by: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(event_id) FROM refunds WHERE provider = $1 AND sale_external_id \
                     = $2",
                )
                .bind(&e.provider)
                .bind(&r.sale_external_id)
                .fetch_one(&mut **tx)
                .await?;
                    return Ok(held_by.map_or(Facts::Fresh, Facts::Merged));
                }
            }
        }
        scope => (r.amount.clone(), scope == crate::domain::RefundScope::Whole),
    };
    let recorded: Option<i64> = sqlx::query_scalar(
        "INSERT INTO refunds (event_id, provider, sale_external_id, sale_event_id, \
         occurred_at, amount_minor, currency, risk, whole_purchase) VALUES ($1, $2, $3, \
         (SELECT event_id FROM sales WHERE provider = $2 AND external_id = $3), $4, $5, $6, $7, \
         $8) \
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
            "SELECT event_id FROM refunds WHERE provider = $1 AND sale_external_id = $2 AND \
             whole_purchase",
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
async fn cumulative_part(
    tx: &mut Tx<'_>,
    event_id: i64,
    e: &Event,
    r: &crate::domain::Refund,
) -> Result<Option<crate::domain::Money>, DbError> {
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
    part.scope = if whole {
        crate::domain::RefundScope::Whole
    } else {
        crate::domain::RefundScope::Partial
    };
    let mut shown = e.clone();
    shown.detail = Detail::Refund(part.clone());
    let data = serde_json::to_string(&shown).map_err(|source| DbError::Corrupt {
        id: event_id,
        source,
    })?;
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
async fn record_subscription(
    tx: &mut Tx<'_>,
    event_id: i64,
    e: &Event,
    s: &crate::domain::Subscription,
    at: i64,
) -> Result<(), DbError> {
    let (status, dated_at) = match e.kind {
        EventKind::SubscriptionCancelled => (
            "cancelled".to_owned(),
            Some(s.cancelled_at.map_or(at, millis)),
        ),
        EventKind::SubscriptionStarted => {
            ("active".to_owned(), Some(s.started_at.map_or(at, millis)))
        }
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
                 AND subscriptions.cancelled_at IS NOT NULL AND subscriptions.updated_at > \
                 excluded.updated_at) \
             WHEN subscriptions.status = 'cancelled' THEN $10 \
                 AND excluded.updated_at > COALESCE(subscriptions.cancelled_at, \
                 subscriptions.updated_at) \
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

pub async fn risk_counts(
    pool: &Pool,
    from: i64,
    to: i64,
    provider: Option<&str>,
    product: Option<&str>,
) -> Result<Vec<RiskRow>, DbError> {
    Ok(sqlx::query_as(
        "SELECT currency, risk, COUNT(*), CAST(SUM(amount_minor) AS BIGINT) FROM refunds \
         WHERE risk IS NOT NULL AND occurred_at >= $1 AND occurred_at < $2 \
         AND (CAST($3 AS TEXT) IS NULL OR provider = $3) \
         AND (CAST($4 AS TEXT) IS NULL OR sale_event_id IN (SELECT sale_event_id FROM \
         sale_items WHERE product_name = $4)) \
         GROUP BY currency, risk",
    )
    .bind(from)
    .bind(to)
    .bind(provider)
    .bind(product)
    .fetch_all(pool)
    .await?)
}
