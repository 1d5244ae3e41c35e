//! The intake write: a batch of webhooks in one transaction, and a number of statements that
//! does not grow with the batch (multi-row inserts, roll-ups summed in memory first). On SQLite
//! each statement is a round trip to the connection's thread, so the single writer's time per
//! webhook is what shrinks as load, and with it the batch, grows.

use std::collections::{HashMap, HashSet};

use sqlx::QueryBuilder;

use super::purchases::{self, Facts, MAX_BINDS};
use super::{Db, Pool, Tx};
use crate::db::rollup::Rollups;
use crate::db::{millis, DbError, Inserted, Mark, NewEvent};
use crate::domain::{Detail, Item, Sale};

/// Writes a batch in one transaction: one fsync for many webhooks.
/// Commits a batch of webhooks and the outbox marks queued with them in one transaction: one
/// fsync for all. Answers each webhook, and how many rows each mark changed.
pub async fn write_round(
    pool: &Pool,
    batch: &[&NewEvent],
    marks: &[&Mark],
) -> Result<(Vec<Inserted>, Vec<u64>), DbError> {
    let mut conn = pool.acquire().await?;
    let written = write_batch(&mut conn, batch, marks).await;
    if written.is_err() {
        // SQLite ends a transaction by itself on a full disk or an I/O error, without sqlx
        // knowing; handed out again, the connection's next "commit" would only release a
        // savepoint of a transaction that never ends. A fresh connection is the one state known
        // to be clean.
        conn.close_on_drop();
    }
    written
}

async fn write_batch(
    conn: &mut sqlx::pool::PoolConnection<Db>,
    batch: &[&NewEvent],
    marks: &[&Mark],
) -> Result<(Vec<Inserted>, Vec<u64>), DbError> {
    use sqlx::Connection as _;
    // Rows are written in key order so that concurrent batches (several instances on one
    // PostgreSQL database) take their locks in the same order.
    let mut order: Vec<usize> = (0..batch.len()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&batch[*a].event, &batch[*b].event);
        (&a.provider, &a.idempotency_key).cmp(&(&b.provider, &b.idempotency_key))
    });
    let mut tx = conn.begin().await?;
    let mut changed = Vec::with_capacity(marks.len());
    for mark in marks {
        changed.push(super::outbox::apply(&mut tx, mark).await?);
    }
    if batch.is_empty() {
        tx.commit().await?;
        return Ok((Vec::new(), changed));
    }
    let ids = insert_events(&mut tx, batch, &order).await?;
    // The events whose facts (sales, refunds, subscriptions, roll-ups) are recorded.
    let counted: Vec<(usize, i64)> = order
        .iter()
        .filter_map(|&i| ids[i].map(|id| (i, id)))
        .filter(|&(i, _)| !batch[i].event.test && batch[i].not_counted.is_none())
        .collect();
    let mut rollups = Rollups::default();
    let recorded = record_sales(&mut tx, batch, &counted, &mut rollups).await?;
    let mut facts = vec![Facts::Fresh; batch.len()];
    for &(i, id) in &counted {
        let e = &batch[i].event;
        facts[i] = match &e.detail {
            Detail::Sale(s) if !s.total.virtual_currency && !recorded.contains(&id) => {
                purchases::merge_sale(&mut tx, e, s, &mut rollups).await?
            }
            Detail::Sale(_) => Facts::Fresh,
            _ => purchases::record_facts(&mut tx, id, e, &mut rollups).await?,
        };
        if let Facts::Merged(held_by) = facts[i] {
            // One purchase, one notice: the event that holds it was announced already.
            sqlx::query("UPDATE events SET merged_into = $1 WHERE id = $2")
                .bind(held_by)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut out = vec![Inserted::Duplicate; batch.len()];
    let mut notices: Vec<(i64, &str, i64)> = Vec::new();
    for &i in &order {
        let Some(event_id) = ids[i] else { continue };
        let announced = facts[i] == Facts::Fresh;
        if announced {
            let at = millis(batch[i].received_at);
            notices.extend(
                batch[i]
                    .destinations
                    .iter()
                    .map(|d| (event_id, d.as_str(), at)),
            );
        }
        let count = if announced {
            batch[i].destinations.len()
        } else {
            0
        };
        out[i] = Inserted::New {
            event_id,
            notices: count,
        };
    }
    insert_notices(&mut tx, &notices).await?;
    upsert_rollups(&mut tx, &rollups).await?;
    tx.commit().await?;
    Ok((out, changed))
}

/// The new event id of each webhook of the batch, `None` for one already stored (or repeated
/// within the batch).
async fn insert_events(
    tx: &mut Tx<'_>,
    batch: &[&NewEvent],
    order: &[usize],
) -> Result<Vec<Option<i64>>, DbError> {
    let mut data = Vec::with_capacity(batch.len());
    for new in batch {
        data.push(
            serde_json::to_string(&new.event)
                .map_err(|source| DbError::Corrupt { id: 0, source })?,
        );
    }
    let mut stored: HashMap<(String, String), i64> = HashMap::with_capacity(batch.len());
    for chunk in order.chunks(MAX_BINDS / 13) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO events (provider, idempotency_key, event_type, kind, external_id, \
             occurred_at, received_at, is_test, amount_minor, currency, data, raw, not_counted) ",
        );
        q.push_values(chunk, |mut row, &i| {
            let new = batch[i];
            let e = &new.event;
            let amount = e.amount();
            row.push_bind(e.provider.as_str())
                .push_bind(e.idempotency_key.as_str())
                .push_bind(e.event_type.as_str())
                .push_bind(e.kind.as_str())
                .push_bind(e.external_id.as_str())
                .push_bind(millis(e.occurred_at))
                .push_bind(millis(new.received_at))
                .push_bind(e.test)
                .push_bind(amount.map(|m| m.minor))
                .push_bind(amount.map(|m| m.currency.as_str()))
                .push_bind(data[i].as_str())
                .push_bind(new.raw.as_str())
                .push_bind(new.not_counted.as_deref());
        });
        q.push(
            " ON CONFLICT (provider, idempotency_key) DO NOTHING \
             RETURNING id, provider, idempotency_key",
        );
        let rows: Vec<(i64, String, String)> = q.build_query_as().fetch_all(&mut **tx).await?;
        stored.extend(rows.into_iter().map(|(id, p, k)| ((p, k), id)));
    }
    let mut ids = vec![None; batch.len()];
    for &i in order {
        let e = &batch[i].event;
        // The first of two webhooks with one key took the id; the other is a duplicate.
        ids[i] = stored.remove(&(e.provider.clone(), e.idempotency_key.clone()));
    }
    Ok(ids)
}

/// Records the batch's new sales with their items and coupons; returns the event ids of those
/// recorded. A sale not returned is a purchase recorded already (by an earlier event or one
/// before it in this batch), for the caller to merge.
async fn record_sales(
    tx: &mut Tx<'_>,
    batch: &[&NewEvent],
    counted: &[(usize, i64)],
    rollups: &mut Rollups,
) -> Result<HashSet<i64>, DbError> {
    let sales: Vec<(i64, &crate::domain::Event, &Sale)> = counted
        .iter()
        .filter_map(|&(i, id)| match &batch[i].event.detail {
            Detail::Sale(s) if !s.total.virtual_currency => Some((id, &batch[i].event, s)),
            _ => None,
        })
        .collect();
    let mut recorded = HashSet::with_capacity(sales.len());
    if sales.is_empty() {
        return Ok(recorded);
    }
    for chunk in sales.chunks(MAX_BINDS / 8) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO sales (event_id, provider, external_id, occurred_at, total_minor, \
             currency, fees_minor, payment_method) ",
        );
        q.push_values(chunk, |mut row, (id, e, s)| {
            row.push_bind(*id)
                .push_bind(e.provider.as_str())
                .push_bind(e.external_id.as_str())
                .push_bind(millis(e.occurred_at))
                .push_bind(s.total.minor)
                .push_bind(s.total.currency.as_str())
                .push_bind(s.fees_minor)
                .push_bind(s.payment_method.as_deref());
        });
        q.push(" ON CONFLICT (provider, external_id) DO NOTHING RETURNING event_id");
        let ids: Vec<i64> = q.build_query_scalar().fetch_all(&mut **tx).await?;
        recorded.extend(ids);
    }
    let mut items: Vec<(i64, &Item)> = Vec::new();
    let mut coupons = Vec::new();
    for (id, e, s) in sales.iter().filter(|(id, ..)| recorded.contains(id)) {
        rollups.sale(millis(e.occurred_at), &e.provider, s);
        items.extend(s.items.iter().map(|item| (*id, item)));
        coupons.extend(s.coupons.iter().map(|c| (*id, c)));
    }
    purchases::insert_items(tx, &items).await?;
    for chunk in coupons.chunks(MAX_BINDS / 4) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO sale_coupons (sale_event_id, code, percentage, amount_minor) ",
        );
        q.push_values(chunk, |mut row, (id, c)| {
            row.push_bind(*id)
                .push_bind(c.code.as_str())
                .push_bind(c.percentage.as_deref())
                .push_bind(c.amount_minor);
        });
        q.build().execute(&mut **tx).await?;
    }
    if let (Some(first), Some(last)) = (recorded.iter().min(), recorded.iter().max()) {
        // A refund can arrive before its sale (stores retry out of order): link it now. Any
        // unlinked refund whose sale is in the id range is rightly linked, whoever wrote it.
        sqlx::query(
            "UPDATE refunds SET sale_event_id = s.event_id FROM sales s \
             WHERE s.event_id BETWEEN $1 AND $2 AND refunds.sale_event_id IS NULL \
             AND refunds.provider = s.provider AND refunds.sale_external_id = s.external_id",
        )
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await?;
    }
    Ok(recorded)
}

async fn insert_notices(tx: &mut Tx<'_>, rows: &[(i64, &str, i64)]) -> Result<(), DbError> {
    for chunk in rows.chunks(MAX_BINDS / 4) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO outbox (event_id, destination, next_attempt_at, created_at) ",
        );
        q.push_values(chunk, |mut row, (event_id, destination, at)| {
            row.push_bind(*event_id)
                .push_bind(*destination)
                .push_bind(*at)
                .push_bind(*at);
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Sums are capped at 10^15 minor units rather than overflowing: one absurd sale must never make
/// later sales in its bucket fail (see `bounds`).
async fn upsert_rollups(tx: &mut Tx<'_>, rollups: &Rollups) -> Result<(), DbError> {
    let money: Vec<_> = rollups.money.iter().collect();
    for chunk in money.chunks(MAX_BINDS / 9) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO rollup_money (grain, bucket, provider, currency, sales, gross_minor, \
             fees_minor, refunds, refund_minor) ",
        );
        q.push_values(
            chunk,
            |mut row, ((grain, bucket, provider, currency), m)| {
                row.push_bind(grain.code())
                    .push_bind(*bucket)
                    .push_bind(provider.as_str())
                    .push_bind(currency.as_str())
                    .push_bind(m.sales)
                    .push_bind(m.gross)
                    .push_bind(m.fees)
                    .push_bind(m.refunds)
                    .push_bind(m.refunded);
            },
        );
        q.push(
            " ON CONFLICT (grain, bucket, provider, currency) DO UPDATE SET \
             sales = rollup_money.sales + excluded.sales, \
             gross_minor = CASE WHEN rollup_money.gross_minor > 1000000000000000 \
                 - excluded.gross_minor THEN 1000000000000000 \
                 ELSE rollup_money.gross_minor + excluded.gross_minor END, \
             fees_minor = CASE WHEN rollup_money.fees_minor > 1000000000000000 \
                 - excluded.fees_minor THEN 1000000000000000 \
                 ELSE rollup_money.fees_minor + excluded.fees_minor END, \
             refunds = rollup_money.refunds + excluded.refunds, \
             refund_minor = CASE WHEN rollup_money.refund_minor > 1000000000000000 \
                 - excluded.refund_minor THEN 1000000000000000 \
                 ELSE rollup_money.refund_minor + excluded.refund_minor END",
        );
        q.build().execute(&mut **tx).await?;
    }
    let products: Vec<_> = rollups.products.iter().collect();
    for chunk in products.chunks(MAX_BINDS / 6) {
        let mut q = QueryBuilder::<Db>::new(
            "INSERT INTO rollup_products (grain, bucket, provider, product, orders, quantity) ",
        );
        q.push_values(chunk, |mut row, ((grain, bucket, provider, product), p)| {
            row.push_bind(grain.code())
                .push_bind(*bucket)
                .push_bind(provider.as_str())
                .push_bind(product.as_str())
                .push_bind(p.orders)
                .push_bind(p.quantity);
        });
        q.push(
            " ON CONFLICT (grain, bucket, provider, product) DO UPDATE SET \
             orders = rollup_products.orders + excluded.orders, \
             quantity = rollup_products.quantity + excluded.quantity",
        );
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}
