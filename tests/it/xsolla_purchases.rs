//! Xsolla purchases as Xsolla sends them: one purchase told twice, partial refunds, refund reasons,
//! disputes, anti-fraud rejections, virtual currency and subscriptions arriving out of order.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono_tz::Tz;
use integrations_bot::config::Secret;
use integrations_bot::db::{Grain, RecentQuery};
use integrations_bot::stats::{report, Filter, Period};
use serde_json::Value;

use crate::support::discord::{FakeDiscord, Posted, Target};
use crate::support::*;

const PATH: &str = "/webhook/xsolla";
const ALL: (i64, i64) = (0, i64::MAX / 2);

fn bytes(name: &str) -> Vec<u8> {
    xsolla_signed(name).0
}

/// A fixture changed the way a real notification would differ.
fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = fixture(&format!("xsolla/{name}.json"));
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

async fn post(app: &TestApp, body: Vec<u8>) -> StatusCode {
    let sig = integrations_bot::providers::xsolla::signature(&body, &Secret::new(XSOLLA_SECRET));
    let req = Request::post(PATH)
        .header("content-type", "application/json")
        .header("authorization", format!("Signature {sig}"))
        .body(Body::from(body))
        .unwrap();
    let (status, text) = app.oneshot(req).await;
    assert!(text.is_empty(), "{text}");
    status
}

async fn post_all(app: &TestApp, bodies: impl IntoIterator<Item = Vec<u8>>) {
    for body in bodies {
        assert_eq!(post(app, body).await, StatusCode::NO_CONTENT);
    }
}

fn field<'a>(m: &'a Posted, name: &str) -> Option<&'a str> {
    m.body["embeds"][0]["fields"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)?["value"]
        .as_str()
}

fn title(m: &Posted) -> &str {
    m.body["embeds"][0]["title"].as_str().unwrap_or_default()
}

async fn money(app: &TestApp) -> Vec<(String, i64, i64, i64, i64, i64)> {
    let mut rows = app
        .store()
        .money_rollup(Grain::Month, ALL.0, ALL.1, None)
        .await
        .unwrap();
    rows.sort();
    rows
}

async fn listed(app: &TestApp) -> i64 {
    let q = RecentQuery {
        from: ALL.0,
        to: ALL.1,
        provider: None,
        product: None,
        limit: 100,
        offset: 0,
    };
    app.store().recent(&q).await.unwrap().1
}

#[tokio::test]
async fn payment_and_order_paid_of_one_purchase_are_one_sale_and_one_notice_in_either_order() {
    // Whichever comes first lacks something the second brings: items, or fees.
    let payment_without_items = edited("purchase_payment", |v| {
        v["purchase"]
            .as_object_mut()
            .unwrap()
            .remove("virtual_items");
    });
    let order_without_billing = edited("purchase_order_paid", |v| {
        v.as_object_mut().unwrap().remove("billing");
    });
    for (case, first, second) in [
        (
            "payment first",
            payment_without_items,
            bytes("purchase_order_paid"),
        ),
        (
            "order_paid first",
            order_without_billing,
            bytes("purchase_payment"),
        ),
    ] {
        let discord = FakeDiscord::start().await;
        let app = TestApp::with_discord(discord.base(), |c| {
            c.discord_config.sales_channel_id = Some(77)
        })
        .await;
        post_all(&app, [first, second.clone(), second]).await;
        let counts = app.store().table_counts().await.unwrap();
        assert_eq!((counts.events, counts.sales), (2, 1), "{case}");
        assert_eq!(app.store().outbox_rows().await.unwrap().len(), 1, "{case}");
        assert_eq!(
            money(&app).await,
            vec![("USD".to_owned(), 1, 2499, 200, 0, 0)],
            "{case}: counted once, with the fees"
        );
        let products = app
            .store()
            .products_rollup(Grain::Month, ALL.0, ALL.1, None)
            .await
            .unwrap();
        assert_eq!(
            products,
            vec![("sword_of_dawn".to_owned(), 1, 1)],
            "{case}: items once"
        );
        assert_eq!(listed(&app).await, 1, "{case}: one line in /sales");
        let posted = discord.wait_for_notices(1, Duration::from_secs(20)).await;
        assert_eq!(field(&posted[0], "Total"), Some("$24.99"), "{case}");
        assert_eq!(
            field(&posted[0], "Transaction ID").map(|t| t.starts_with("`48151623`")),
            Some(true)
        );
        app.stop().await;
        assert_eq!(discord.notices().len(), 1, "{case}: announced once");
    }
}

#[tokio::test]
async fn refund_and_order_canceled_of_one_purchase_are_one_refund_in_either_order() {
    for (case, first, second) in [
        ("refund first", "purchase_refund", "purchase_order_canceled"),
        (
            "order_canceled first",
            "purchase_order_canceled",
            "purchase_refund",
        ),
    ] {
        let app = TestApp::start(|c| {
            c.discord_config.sales_channel_id = Some(77);
            c.discord_config.refunds_channel_id = Some(88);
        })
        .await;
        post_all(
            &app,
            [
                bytes("purchase_payment"),
                bytes(first),
                bytes(second),
                bytes(second),
            ],
        )
        .await;
        assert_eq!(
            app.store().table_counts().await.unwrap().refunds,
            1,
            "{case}"
        );
        assert_eq!(
            money(&app).await,
            vec![("USD".to_owned(), 1, 2499, 200, 1, 2499)],
            "{case}: deducted once"
        );
        assert_eq!(
            app.store().outbox_rows().await.unwrap().len(),
            2,
            "{case}: one sale notice, one refund notice"
        );
        assert_eq!(listed(&app).await, 2, "{case}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_partial_refund_is_announced_linked_to_its_sale_and_deducted() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.refunds_channel_id = Some(88)
    })
    .await;
    let second_part = edited("partial_refund", |v| {
        v["purchase"]["total"]["amount"] = Value::from(5);
        v["transaction"]["date"] = Value::from("2026-11-23T09:12:00+03:00");
    });
    post_all(
        &app,
        [
            bytes("purchase_payment"),
            bytes("partial_refund"),
            bytes("partial_refund"),
            second_part,
        ],
    )
    .await;
    assert_eq!(
        money(&app).await,
        vec![("USD".to_owned(), 1, 2499, 200, 2, 1500)],
        "both parts deducted, the retry once"
    );
    let for_product = app
        .store()
        .money_raw(ALL.0, ALL.1, None, Some("sword_of_dawn"))
        .await
        .unwrap();
    let refunded: i64 = for_product.iter().map(|r| r.5).sum();
    assert_eq!(refunded, 1500, "linked to the sale it refunds");
    let period = Period::resolve(Some("all"), None, None, chrono::Utc::now(), Tz::UTC).unwrap();
    let r = report(app.store(), &period, &Filter::default(), Tz::UTC)
        .await
        .unwrap();
    assert_eq!(r.currencies[0].net(), 999, "/stats net is what was kept");

    let posted = discord.wait_for_notices(2, Duration::from_secs(20)).await;
    let first = posted
        .iter()
        .find(|m| field(m, "Refunded") == Some("$10.00"))
        .expect("the first part announced");
    assert_eq!(title(first), "Partial Refund Issued");
    assert_eq!(first.target, Target::Channel(88));
    assert_eq!(
        field(first, "Reason"),
        Some("Cancellation by the game request")
    );
    assert_eq!(field(first, "Transaction ID"), Some("`48151623`"));
    app.stop().await;
    assert_eq!(discord.notices().len(), 2);
}

#[tokio::test]
async fn every_refund_reason_is_shown_and_chargebacks_and_fraud_are_flagged_and_counted() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.refunds_channel_id = Some(88)
    })
    .await;
    for code in 1..=13 {
        let id = 9000 + code;
        post_all(
            &app,
            [
                edited("purchase_payment", |v| v["transaction"]["id"] = id.into()),
                edited("purchase_refund", |v| {
                    v["transaction"]["id"] = id.into();
                    v["refund_details"] = serde_json::json!({ "code": code });
                }),
            ],
        )
        .await;
    }
    let posted = discord.wait_for_notices(13, Duration::from_secs(30)).await;
    let notice = |code: i64| {
        let id = format!("`{}`", 9000 + code);
        posted
            .iter()
            .find(|m| field(m, "Transaction ID") == Some(id.as_str()))
            .unwrap_or_else(|| panic!("refund {code} announced"))
    };
    let expected = [
        (1, "Cancelled at the user's or the game's request", ""),
        (2, "Chargeback", "Chargeback"),
        (3, "Integration error", ""),
        (4, "Potential fraud", "Fraud"),
        (5, "Test payment", ""),
        (6, "User invoice expired", ""),
        (7, "Fraud reported by the payment system", "Fraud"),
        (8, "Cancelled at the payment system's request", ""),
        (9, "The user was not satisfied", ""),
        (10, "Cancelled at the game's request", ""),
        (11, "The account holder reported fraud", "Fraud"),
        (12, "Friendly fraud", "Fraud"),
        (13, "Duplicate payment", ""),
    ];
    for (code, reason, flag) in expected {
        let m = notice(code);
        assert_eq!(field(m, "Reason"), Some(reason), "code {code}");
        let want = match flag {
            "" => "Refund Issued".to_owned(),
            flag => format!("⚠️ Refund Issued: {flag}"),
        };
        assert_eq!(title(m), want, "code {code}");
    }
    let period = Period::resolve(Some("all"), None, None, chrono::Utc::now(), Tz::UTC).unwrap();
    let r = report(app.store(), &period, &Filter::default(), Tz::UTC)
        .await
        .unwrap();
    let usd = &r.currencies[0];
    assert_eq!((usd.refunds, usd.refunded), (13, 13 * 2499));
    let risk = r.risk_for("USD").expect("a line of their own");
    assert_eq!(
        risk.line(),
        "Chargebacks: 1 ($24.99) · Fraud: 4 ($99.96)",
        "/stats"
    );
    let embed = integrations_bot::discord::views::stats_embed(&r, 0);
    assert!(
        embed.fields[0].value.contains("⚠️ Chargebacks: 1 ($24.99)"),
        "{}",
        embed.fields[0].value
    );
    app.stop().await;
}

#[tokio::test]
async fn disputes_blocked_payments_and_non_renewals_are_announced_and_never_revenue() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77);
        c.discord_config.refunds_channel_id = Some(88);
        c.discord_config.subscriptions_channel_id = Some(99);
    })
    .await;
    let dispute_won = edited("dispute", |v| {
        v["action"] = "updating".into();
        v["dispute"]["status"] = "won".into();
    });
    post_all(
        &app,
        [
            bytes("dispute"),
            dispute_won.clone(),
            dispute_won,
            bytes("afs_reject"),
            bytes("non_renewal_subscription"),
        ],
    )
    .await;
    let posted = discord.wait_for_notices(4, Duration::from_secs(20)).await;
    let by_title = |t: &str| {
        posted
            .iter()
            .find(|m| title(m) == t)
            .unwrap_or_else(|| panic!("no {t}: {posted:?}"))
    };
    let opened = by_title("Dispute Opened");
    assert_eq!(opened.target, Target::Channel(88));
    assert_eq!(field(opened, "Disputed"), Some("$24.99"));
    // Store text is shown escaped, so underscores read as written in Discord.
    assert_eq!(field(opened, "Type"), Some("1st\\_time\\_chargeback"));
    assert_eq!(field(opened, "Reason"), Some("not\\_as\\_described"));
    assert_eq!(field(by_title("Dispute Updated"), "Status"), Some("won"));
    let blocked = by_title("Payment Blocked by Anti-fraud");
    assert_eq!(blocked.target, Target::Channel(88));
    assert_eq!(field(blocked, "Reason"), Some("Potential fraud"));
    let ending = by_title("Subscription Will Not Renew");
    assert_eq!(ending.target, Target::Channel(99));
    assert_eq!(field(ending, "Ends"), Some("<t:1796119200:f>"));
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.sales, counts.refunds), (0, 0), "no money moved");
    assert!(money(&app).await.is_empty(), "never revenue");
    app.stop().await;
    assert_eq!(discord.notices().len(), 4);
}

#[tokio::test]
async fn virtual_currency_is_named_in_notices_sales_and_csv_and_never_summed_into_money() {
    let discord = FakeDiscord::start().await;
    let app = TestApp::with_discord(discord.base(), |c| {
        c.discord_config.sales_channel_id = Some(77)
    })
    .await;
    post_all(
        &app,
        [bytes("payment_currency_pack"), bytes("order_paid_virtual")],
    )
    .await;
    let posted = discord.wait_for_notices(2, Duration::from_secs(20)).await;
    let pack = posted
        .iter()
        .find(|m| field(m, "Total") == Some("$4.99"))
        .expect("the currency pack is a sale in money");
    assert_eq!(field(pack, "Products"), Some("• 500 Crystals ×1"));
    let spent = posted
        .iter()
        .find(|m| field(m, "Total") == Some("1200 crystals (virtual currency)"))
        .expect("the order paid in crystals is announced as such");
    assert_eq!(
        field(spent, "Products"),
        Some("• helmet\\_of\\_ash ×2\n• starter\\_bundle ×1")
    );
    assert_eq!(
        money(&app).await,
        vec![("USD".to_owned(), 1, 499, 40, 0, 0)],
        "crystals are not money"
    );
    let period = Period::resolve(Some("all"), None, None, chrono::Utc::now(), Tz::UTC).unwrap();
    let r = report(app.store(), &period, &Filter::default(), Tz::UTC)
        .await
        .unwrap();
    let currencies: Vec<&str> = r.currencies.iter().map(|f| f.currency.as_str()).collect();
    assert_eq!(currencies, ["USD"], "/stats sums money only");
    let q = RecentQuery {
        from: ALL.0,
        to: ALL.1,
        provider: None,
        product: None,
        limit: 10,
        offset: 0,
    };
    let (events, total) = app.store().recent(&q).await.unwrap();
    assert_eq!(total, 2, "both listed in /sales");
    let csv: String = events
        .iter()
        .map(|e| integrations_bot::discord::views::csv_row(e, false, chrono_tz::Tz::UTC))
        .collect();
    assert!(csv.contains(",1200,crystals,1200,"), "{csv}");
    app.stop().await;
}

#[tokio::test]
async fn a_cancelled_subscription_is_never_reopened_by_an_update_in_any_order() {
    let app = TestApp::start(|_| {}).await;
    let with_id =
        |name: &str, id: &str| edited(name, |v| v["subscription"]["subscription_id"] = id.into());
    let orders: [[&str; 3]; 6] = [
        [
            "create_subscription",
            "cancel_subscription",
            "update_subscription_older",
        ],
        [
            "create_subscription",
            "update_subscription_older",
            "cancel_subscription",
        ],
        [
            "cancel_subscription",
            "create_subscription",
            "update_subscription_older",
        ],
        [
            "cancel_subscription",
            "update_subscription_older",
            "create_subscription",
        ],
        [
            "update_subscription_older",
            "cancel_subscription",
            "create_subscription",
        ],
        [
            "update_subscription_older",
            "create_subscription",
            "cancel_subscription",
        ],
    ];
    for (i, order) in orders.iter().enumerate() {
        let id = format!("order-{i}");
        post_all(&app, order.iter().map(|name| with_id(name, &id))).await;
        // Xsolla's ordinary update, dated after the end, arriving last: still no reopening.
        post_all(&app, [with_id("update_subscription", &id)]).await;
    }
    // A subscription that was never cancelled stays active through its updates.
    post_all(
        &app,
        [
            with_id("create_subscription", "kept"),
            with_id("update_subscription_older", "kept"),
        ],
    )
    .await;
    let (_, _, active) = app
        .store()
        .subscription_counts(ALL.0, ALL.1, None)
        .await
        .unwrap();
    assert_eq!(active, 1, "every cancelled one stays cancelled");
    app.stop().await;
}
