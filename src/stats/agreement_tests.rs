//! Reports read whole hours, days and months from roll-ups and only the edges from raw rows. Over
//! random baskets and minute-precise ranges, that must give exactly what reading every raw row
//! gives, or a figure would change with the range that happens to serve it.

use proptest::prelude::*;

use super::{figures, merge, top_product_rows, Filter};
use crate::db::{NewEvent, Store};
use crate::domain::{Customer, Detail, Event, EventKind, Item, Money, Refund, RefundScope, Sale};

const START: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const MINUTE: i64 = 60_000;
/// About three months, so ranges cross month, day and hour buckets.
const SPAN_MINUTES: i64 = 92 * 24 * 60;

#[derive(Debug, Clone)]
struct Basket {
    minute: i64,
    currency: usize,
    /// Product numbers; repeats are two lines (variants) of one product.
    products: Vec<(u8, u32)>,
    total: i64,
    refund_after: Option<i64>,
}

fn basket() -> impl Strategy<Value = Basket> {
    (
        0..SPAN_MINUTES,
        0..3usize,
        prop::collection::vec((0..4u8, 1..4u32), 0..4),
        1..100_000i64,
        prop::option::of(0..20_000i64),
    )
        .prop_map(|(minute, currency, products, total, refund_after)| Basket {
            minute,
            currency,
            products,
            total,
            refund_after,
        })
}

fn at(minute: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(START + minute * MINUTE).unwrap_or_default()
}

fn events(baskets: &[Basket]) -> Vec<NewEvent> {
    let mut out = Vec::new();
    for (n, b) in baskets.iter().enumerate() {
        let currency = ["USD", "EUR", "JPY"][b.currency];
        let items = b
            .products
            .iter()
            .map(|(p, quantity)| Item {
                name: format!("Product {p}"),
                quantity: *quantity,
                ..Default::default()
            })
            .collect();
        let sale = Detail::Sale(Sale {
            total: Money::new(b.total, currency),
            fees_minor: Some(b.total / 20),
            items,
            ..Default::default()
        });
        out.push(new_event(
            format!("S{n}"),
            "paid",
            EventKind::Sale,
            b.minute,
            sale,
        ));
        if let Some(after) = b.refund_after {
            let refund = Detail::Refund(Refund {
                amount: Money::new(b.total / 2, currency),
                sale_external_id: format!("S{n}"),
                scope: RefundScope::Partial,
                ..Default::default()
            });
            let minute = (b.minute + after).min(SPAN_MINUTES);
            out.push(new_event(
                format!("S{n}"),
                "refunded",
                EventKind::Refund,
                minute,
                refund,
            ));
        }
    }
    out
}

fn new_event(
    id: String,
    kind_name: &str,
    kind: EventKind,
    minute: i64,
    detail: Detail,
) -> NewEvent {
    let event = Event {
        provider: "payhip".into(),
        event_type: kind_name.into(),
        kind,
        idempotency_key: format!("{kind_name}:{id}"),
        external_id: id,
        occurred_at: at(minute),
        test: false,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail,
    };
    NewEvent {
        raw: "{}".into(),
        received_at: event.occurred_at,
        destinations: vec![],
        not_counted: None,
        event,
    }
}

async fn check(baskets: Vec<Basket>, ranges: Vec<(i64, i64)>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let url = format!("sqlite://{}", dir.path().join("agree.db").display());
    let store = Store::connect(&url)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let new = events(&baskets);
    let refs: Vec<&NewEvent> = new.iter().collect();
    store
        .insert_batch(&refs)
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let fail = |e: crate::db::DbError| TestCaseError::fail(e.to_string());
    for (a, b) in ranges {
        let (from, to) = (START + a.min(b) * MINUTE, START + a.max(b) * MINUTE);
        let planned = figures(&store, from, to, &Filter::default())
            .await
            .map_err(fail)?;
        let raw = merge(store.money_raw(from, to, None, None).await.map_err(fail)?);
        prop_assert_eq!(&planned, &raw, "money over [{}, {})", from, to);
        let mut planned = top_product_rows(&store, from, to, &Filter::default())
            .await
            .map_err(fail)?;
        let mut raw: Vec<_> = store.products_raw(from, to, None).await.map_err(fail)?;
        raw.retain(|(_, orders, _)| *orders > 0);
        planned.retain(|(_, orders, _)| *orders > 0);
        raw.sort();
        planned.sort();
        prop_assert_eq!(planned, raw, "products over [{}, {})", from, to);
    }
    store.close().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn reports_from_roll_ups_equal_reports_from_raw_rows(
        baskets in prop::collection::vec(basket(), 1..40),
        ranges in prop::collection::vec((0..SPAN_MINUTES, 0..SPAN_MINUTES), 1..6),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        runtime.block_on(check(baskets, ranges))?;
    }
}
