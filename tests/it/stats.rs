//! Stats over a known history: periods, time zones, currencies, refunds of older sales.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use integrations_bot::db::{NewEvent, Store};
use integrations_bot::domain::{
    Customer, Detail, Event, EventKind, Item, Money, Refund, Sale, Subscription,
};
use integrations_bot::stats::{report, Filter, Period};

use crate::support::fresh_database_url;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn event(provider: &str, key: &str, when: &str, kind: EventKind, detail: Detail) -> NewEvent {
    let event = Event {
        provider: provider.into(),
        event_type: kind.as_str().into(),
        kind,
        idempotency_key: key.into(),
        external_id: key.into(),
        occurred_at: at(when),
        test: false,
        test_signed: false,
        customer: Customer::default(),
        url: None,
        comment: None,
        detail,
    };
    NewEvent {
        raw: "{}".into(),
        received_at: at(when),
        destinations: vec![],
        not_counted: None,
        event,
    }
}

fn sale(
    provider: &str,
    id: &str,
    when: &str,
    minor: i64,
    currency: &str,
    product: &str,
) -> NewEvent {
    event(
        provider,
        id,
        when,
        EventKind::Sale,
        Detail::Sale(Sale {
            total: Money::new(minor, currency),
            fees_minor: Some(100),
            items: vec![Item {
                product_id: None,
                name: product.into(),
                quantity: 1,
                variant: None,
                on_sale: false,
                amount_minor: None,
                ..Default::default()
            }],
            coupons: vec![],
            payment_method: None,
            vat_applied: None,
            transaction_id: None,
            ..Default::default()
        }),
    )
}

fn refund(id: &str, sale_id: &str, when: &str, minor: i64, currency: &str) -> NewEvent {
    event(
        "payhip",
        id,
        when,
        EventKind::Refund,
        Detail::Refund(Refund {
            amount: Money::new(minor, currency),
            sale_external_id: sale_id.into(),
            original_total: None,
            purchased_at: None,
            items: vec![],
            payment_method: None,
            vat_applied: None,
            reason: None,
            ..Default::default()
        }),
    )
}

fn subscription(id: &str, when: &str, kind: EventKind) -> NewEvent {
    event(
        "payhip",
        &format!("{id}:{}", kind.as_str()),
        when,
        kind,
        Detail::Subscription(Subscription {
            subscription_id: id.into(),
            status: None,
            plan: None,
            product: None,
            started_at: None,
            cancelled_at: None,
            amount: None,
            ..Default::default()
        }),
    )
}

async fn history() -> (Store, tempfile::TempDir) {
    let (store, dir, _) = history_at().await;
    (store, dir)
}

pub(crate) async fn history_at() -> (Store, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let store = Store::connect(&url).await.unwrap();
    let events = vec![
        // October: one USD sale, later refunded in November.
        sale(
            "payhip",
            "OCT-1",
            "2026-10-15T12:00:00Z",
            5000,
            "USD",
            "Course",
        ),
        // November, in UTC: USD and EUR sales, across providers, at awkward minutes.
        sale(
            "payhip",
            "NOV-1",
            "2026-11-02T10:17:00Z",
            2000,
            "USD",
            "Course",
        ),
        sale(
            "payhip",
            "NOV-2",
            "2026-11-02T10:59:59Z",
            1000,
            "USD",
            "Ebook",
        ),
        sale(
            "xsolla",
            "NOV-3",
            "2026-11-03T23:30:00Z",
            999,
            "EUR",
            "Gems",
        ),
        sale(
            "payhip",
            "NOV-4",
            "2026-11-20T08:00:00Z",
            3000,
            "USD",
            "Course",
        ),
        refund("REF-1", "OCT-1", "2026-11-05T09:00:00Z", 5000, "USD"),
        subscription("S1", "2026-11-01T00:30:00Z", EventKind::SubscriptionStarted),
        subscription("S2", "2026-11-02T00:30:00Z", EventKind::SubscriptionStarted),
        subscription(
            "S2",
            "2026-11-10T00:30:00Z",
            EventKind::SubscriptionCancelled,
        ),
        // 30 November 23:30 UTC is already 1 December in Paris.
        sale(
            "payhip",
            "EDGE",
            "2026-11-30T23:30:00Z",
            700,
            "EUR",
            "Ebook",
        ),
    ];
    let refs: Vec<&NewEvent> = events.iter().collect();
    store.insert_batch(&refs).await.unwrap();
    (store, dir, url)
}

#[tokio::test]
async fn a_month_is_reported_per_currency_with_refunds_of_older_sales() {
    let (store, _dir) = history().await;
    let now = at("2026-12-05T12:00:00Z");
    let period = Period::resolve(Some("last-month"), None, None, now, Tz::UTC).unwrap();
    let r = report(&store, &period, &Filter::default(), Tz::UTC)
        .await
        .unwrap();
    let usd = r.currencies.iter().find(|f| f.currency == "USD").unwrap();
    assert_eq!(
        (usd.sales, usd.gross, usd.refunds, usd.refunded, usd.net()),
        (3, 6000, 1, 5000, 1000)
    );
    assert_eq!(usd.average_order(), Some(2000));
    let eur = r.currencies.iter().find(|f| f.currency == "EUR").unwrap();
    assert_eq!((eur.sales, eur.gross), (2, 1699));
    assert_eq!(
        (
            r.subscriptions_started,
            r.subscriptions_cancelled,
            r.subscriptions_active
        ),
        (2, 1, 1)
    );
    assert_eq!(r.top_products[0].product, "Course");
    assert_eq!(r.top_products[0].orders, 2);
    // The previous month holds October's sale.
    let prev_usd = r.previous_for("USD").unwrap();
    assert_eq!((prev_usd.sales, prev_usd.gross), (1, 5000));
    store.close().await;
}

#[tokio::test]
async fn periods_follow_the_time_zone_at_the_edges() {
    let (store, _dir) = history().await;
    let now = at("2026-12-05T12:00:00Z");
    let paris: Tz = "Europe/Paris".parse().unwrap();
    let november_paris = Period::resolve(Some("last-month"), None, None, now, paris).unwrap();
    let r = report(&store, &november_paris, &Filter::default(), paris)
        .await
        .unwrap();
    let eur = r.currencies.iter().find(|f| f.currency == "EUR").unwrap();
    assert_eq!(
        eur.sales, 1,
        "the 23:30 UTC sale belongs to December in Paris"
    );
    store.close().await;
}

#[tokio::test]
async fn minute_precise_ranges_match_the_raw_rows() {
    let (store, _dir) = history().await;
    // 2 Nov 10:30 to 10:59:59 inclusive of only the second sale; not hour-aligned at either end.
    let period = Period {
        label: "custom".into(),
        from: at("2026-11-02T10:30:00Z"),
        to: at("2026-11-03T23:45:00Z"),
        comparison: None,
    };
    let r = report(&store, &period, &Filter::default(), Tz::UTC)
        .await
        .unwrap();
    let usd = r.currencies.iter().find(|f| f.currency == "USD").unwrap();
    assert_eq!((usd.sales, usd.gross), (1, 1000));
    let eur = r.currencies.iter().find(|f| f.currency == "EUR").unwrap();
    assert_eq!(eur.gross, 999);
    store.close().await;
}

#[tokio::test]
async fn provider_and_product_filters() {
    let (store, _dir) = history().await;
    let period =
        Period::resolve(Some("all"), None, None, at("2026-12-05T12:00:00Z"), Tz::UTC).unwrap();
    let xsolla = Filter {
        provider: Some("xsolla".into()),
        product: None,
    };
    let r = report(&store, &period, &xsolla, Tz::UTC).await.unwrap();
    assert_eq!(r.currencies.len(), 1);
    assert_eq!(
        (r.currencies[0].currency.as_str(), r.currencies[0].gross),
        ("EUR", 999)
    );
    let course = Filter {
        provider: None,
        product: Some("Course".into()),
    };
    let r = report(&store, &period, &course, Tz::UTC).await.unwrap();
    let usd = r.currencies.iter().find(|f| f.currency == "USD").unwrap();
    assert_eq!((usd.sales, usd.gross, usd.refunded), (3, 10000, 5000));
    store.close().await;
}

#[tokio::test]
async fn the_cli_prints_the_same_report() {
    let (store, dir, url) = history_at().await;
    store.close().await;
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .arg("--config")
        .arg(dir.path().join("config.json"))
        .args([
            "stats",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--json",
        ])
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let usd = report["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["currency"] == "USD")
        .unwrap();
    assert_eq!(usd["gross"], 6000);
}
