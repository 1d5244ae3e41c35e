//! Storage on a fresh database: what a seller's history looks like after real events.

use integrations_bot::db::{Inserted, NewEvent, Store};
use integrations_bot::domain::{Customer, Detail, Event, EventKind, Money, Refund, Sale};

fn sale(id: &str, minor: i64) -> Event {
    Event {
        provider: "payhip".into(),
        event_type: "paid".into(),
        kind: EventKind::Sale,
        idempotency_key: format!("paid:{id}"),
        external_id: id.into(),
        occurred_at: chrono::Utc::now(),
        test: false,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail: Detail::Sale(Sale {
            total: Money::new(minor, "EUR"),
            fees_minor: None,
            items: vec![],
            coupons: vec![],
            payment_method: None,
            vat_applied: None,
            transaction_id: None,
            ..Default::default()
        }),
    }
}

fn new(event: Event, destinations: &[&str]) -> NewEvent {
    NewEvent {
        raw: serde_json::to_string(&event).unwrap(),
        received_at: chrono::Utc::now(),
        destinations: destinations.iter().map(|d| d.to_string()).collect(),
        not_counted: None,
        event,
    }
}

async fn fresh() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&crate::support::fresh_database_url(dir.path()).await)
        .await
        .unwrap();
    (store, dir)
}

#[tokio::test]
async fn first_run_creates_the_folder_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/deeper/sales.db").display()
    );
    let store = Store::connect(&url).await.unwrap();
    store.ping().await.unwrap();
    assert!(dir.path().join("nested/deeper/sales.db").exists());
    store.close().await;
}

#[tokio::test]
async fn history_is_never_truncated() {
    let (store, _dir) = fresh().await;
    let batch: Vec<NewEvent> = (0..450)
        .map(|i| new(sale(&format!("T{i}"), 100 + i), &[]))
        .collect();
    let refs: Vec<&NewEvent> = batch.iter().collect();
    let results = store.insert_batch(&refs).await.unwrap();
    assert!(results.iter().all(|r| matches!(r, Inserted::New { .. })));
    assert_eq!(store.table_counts().await.unwrap().sales, 450);
}

#[tokio::test]
async fn a_duplicate_in_the_same_batch_is_stored_once() {
    let (store, _dir) = fresh().await;
    let a = new(sale("SAME", 500), &["channel:1"]);
    let b = new(sale("SAME", 500), &["channel:1"]);
    let results = store.insert_batch(&[&a, &b]).await.unwrap();
    assert!(matches!(results[0], Inserted::New { notices: 1, .. }));
    assert_eq!(results[1], Inserted::Duplicate);
    assert_eq!(store.outbox_rows().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_refund_links_to_its_sale() {
    let (store, _dir) = fresh().await;
    store
        .insert_batch(&[&new(sale("TX9", 1000), &[])])
        .await
        .unwrap();
    let mut refund = sale("TX9", 0);
    refund.kind = EventKind::Refund;
    refund.event_type = "refunded".into();
    refund.idempotency_key = "refunded:TX9:1".into();
    refund.detail = Detail::Refund(Refund {
        amount: Money::new(400, "EUR"),
        sale_external_id: "TX9".into(),
        original_total: None,
        purchased_at: None,
        items: vec![],
        payment_method: None,
        vat_applied: None,
        reason: None,
        ..Default::default()
    });
    store.insert_batch(&[&new(refund, &[])]).await.unwrap();
    let linked = scalar(&store, "SELECT sale_event_id FROM refunds").await;
    let sale_id = scalar(&store, "SELECT event_id FROM sales").await;
    assert!(sale_id.is_some());
    assert_eq!(linked, sale_id);
}

/// One integer from either backend, for assertions on stored rows.
async fn scalar(store: &Store, sql: &str) -> Option<i64> {
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(&**p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

#[tokio::test]
async fn one_batch_holding_a_purchase_twice_a_retry_and_its_refund_counts_it_once() {
    let (store, _dir) = fresh().await;
    // Xsolla's `payment` and `order_paid` for one purchase, the same webhook twice, and the
    // refund, all committed together.
    let first = sale("T-1", 1_000);
    let mut second = sale("T-1", 1_000);
    second.event_type = "order_paid".into();
    second.idempotency_key = "order_paid:T-1".into();
    let mut refund = sale("T-1", 0);
    refund.event_type = "refunded".into();
    refund.kind = EventKind::Refund;
    refund.idempotency_key = "refunded:T-1".into();
    refund.detail = Detail::Refund(Refund {
        amount: Money::new(1_000, "EUR"),
        sale_external_id: "T-1".into(),
        ..Default::default()
    });
    let batch = [
        new(refund, &["channel:1"]),
        new(second, &["channel:1"]),
        new(first.clone(), &["channel:1"]),
        new(first, &["channel:1"]),
    ];
    let refs: Vec<&NewEvent> = batch.iter().collect();
    let out = store.insert_batch(&refs).await.unwrap();
    let announced: usize = out
        .iter()
        .map(|r| match r {
            Inserted::New { notices, .. } => *notices,
            Inserted::Duplicate => 0,
        })
        .sum();
    assert_eq!(out[3], Inserted::Duplicate, "{out:?}");
    assert_eq!(announced, 2, "the sale and its refund, once each: {out:?}");
    let counts = store.table_counts().await.unwrap();
    assert_eq!((counts.sales, counts.refunds), (1, 1));
    let linked = scalar(
        &store,
        "SELECT COUNT(*) FROM refunds WHERE sale_event_id IS NOT NULL",
    )
    .await;
    assert_eq!(linked, Some(1), "the refund is linked to its sale");
    store.close().await;
}
