//! Unit tests of the `/sales`, `/stats` and `/export` builders.

use chrono_tz::Tz;

use super::*;

#[test]
fn formulas_are_shown_as_text() {
    for (cell, shown) in [
        (
            "=HYPERLINK(\"https://evil.example\")",
            "\"'=HYPERLINK(\"\"https://evil.example\"\")\"",
        ),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "\"'\r=1+1\""),
        ("-", "'-"),
        ("-12.", "'-12."),
        ("-.5", "'-.5"),
        ("-1e3", "'-1e3"),
    ] {
        assert_eq!(csv_cell(cell), shown, "{cell:?}");
    }
}

#[test]
fn numbers_stay_numbers() {
    for n in ["-12.50", "-1250", "0", "2999", "29.99", "-0.5"] {
        assert_eq!(csv_cell(n), n);
    }
}

fn sale(product: &str, minor: i64) -> Event {
    use crate::domain::{Customer, Detail, Item, Money, Sale};
    Event {
        provider: "payhip".into(),
        event_type: "paid".into(),
        kind: EventKind::Sale,
        idempotency_key: "paid:A1".into(),
        external_id: "A1".into(),
        occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        test: false,
        test_signed: false,
        customer: Customer {
            name: Some("<@1> **Ada**".into()),
            email: None,
        },
        url: None,
        comment: None,
        detail: Detail::Sale(Sale {
            total: Money::new(minor, "EUR"),
            fees_minor: None,
            items: vec![Item {
                product_id: None,
                name: product.into(),
                quantity: 1,
                variant: None,
                on_sale: false,
                amount_minor: None,
                ..Item::default()
            }],
            coupons: vec![],
            payment_method: Some("\tPayPal".into()),
            vat_applied: None,
            transaction_id: None,
            ..Sale::default()
        }),
    }
}

#[test]
fn an_exported_row_guards_formulas_and_keeps_amounts_numeric() {
    let row = csv_row(
        &StoredEvent {
            id: 1,
            event: sale("=1+1", 1250),
        },
        true,
        "Europe/Paris".parse().unwrap(),
    );
    assert_eq!(
        row,
        "2023-11-14T22:13:20Z,2023-11-14 23:13:20,payhip,paid,sale,A1,12.50,EUR,1250,'=1+1,'\tPayPal,<@1> **Ada**,,\n"
    );
}

#[test]
fn exported_refunds_are_negative_so_a_column_sums_to_the_net() {
    let mut refund = sale("Course", 0);
    refund.kind = EventKind::Refund;
    refund.detail = refund_detail(1000, Some(2999));
    let cell = |e: &Event, col: usize| {
        csv_row(
            &StoredEvent {
                id: 1,
                event: e.clone(),
            },
            false,
            Tz::UTC,
        )
        .trim_end()
        .split(',')
        .nth(col)
        .unwrap()
        .to_owned()
    };
    let sold = sale("Course", 2999);
    let sum: f64 = [&sold, &refund]
        .iter()
        .map(|e| cell(e, 6).parse::<f64>().unwrap())
        .sum();
    assert_eq!(
        (cell(&refund, 6), cell(&refund, 8)),
        ("-10.00".into(), "-1000".into())
    );
    assert!((sum - 19.99).abs() < 1e-9, "{sum}");
    assert!(CSV_HEADER.starts_with('\u{FEFF}'), "Excel reads UTF-8");
}

fn refund_detail(minor: i64, original: Option<i64>) -> crate::domain::Detail {
    use crate::domain::{Detail, Item, Money, Refund};
    Detail::Refund(Refund {
        amount: Money::new(minor, "USD"),
        sale_external_id: "PH-1".into(),
        original_total: original.map(|o| Money::new(o, "USD")),
        purchased_at: None,
        items: vec![Item {
            product_id: None,
            name: "Course".into(),
            quantity: 2,
            variant: None,
            on_sale: false,
            amount_minor: None,
            ..Item::default()
        }],
        payment_method: None,
        vat_applied: None,
        reason: None,
        ..Refund::default()
    })
}

#[test]
fn a_sales_line_shows_store_text_inert() {
    let line = sales_line(&sale("[free](https://evil.example)", 999), "Payhip", true);
    assert_eq!(
        line,
        r"<t:1700000000:d> · **Sale** · `A1` · 1× \[free\](https\://evil.example) · €9.99 · \<@1> \*\*Ada\*\* · Payhip"
    );
}

#[test]
fn a_refund_line_says_whether_it_was_partial() {
    let mut e = sale("Course", 0);
    e.kind = EventKind::Refund;
    e.detail = refund_detail(1000, Some(2999));
    assert_eq!(
        sales_line(&e, "Payhip", false),
        "<t:1700000000:d> · **Refund** · `PH-1` · 2× Course · $10.00 (partial, of $29.99) · Payhip"
    );
    e.detail = refund_detail(2999, Some(2999));
    assert!(sales_line(&e, "Payhip", false).contains("$29.99 (full)"));
    e.detail = refund_detail(2999, None);
    assert!(sales_line(&e, "Payhip", false).ends_with("· $29.99 · Payhip"));
}

#[test]
fn a_subscription_line_names_its_plan() {
    use crate::domain::{Detail, Subscription};
    let mut e = sale("", 0);
    e.kind = EventKind::SubscriptionStarted;
    e.detail = Detail::Subscription(Subscription {
        subscription_id: "SUB-77".into(),
        status: Some("active".into()),
        plan: Some("Monthly".into()),
        product: Some("Studio Membership".into()),
        started_at: None,
        cancelled_at: None,
        amount: None,
        ..Subscription::default()
    });
    assert_eq!(
        sales_line(&e, "Payhip", false),
        "<t:1700000000:d> · **New subscription** · `SUB-77` · Studio Membership · plan Monthly · Payhip"
    );
}

#[test]
fn a_page_footer_says_which_events_it_shows() {
    let lines: Vec<String> = (0..3).map(|i| format!("line {i}")).collect();
    let page = sales_page(&lines, 10, 10, 13, 0, "Recent sales (all)");
    assert_eq!(
        page.footer.unwrap().text,
        "Page 2 of 2 · 11–13 of 13 events"
    );
    let one = sales_page(&lines[..1], 0, 10, 1, 0, "t");
    assert_eq!(one.footer.unwrap().text, "1 event");
    let none = sales_page(&[], 0, 10, 0, 0, "t");
    assert_eq!(none.footer.unwrap().text, "0 events");
    assert_eq!(
        none.description.unwrap(),
        "Nothing recorded in this period."
    );
}

#[test]
fn separators_and_quotes_are_quoted() {
    assert_eq!(csv_cell("a, b"), "\"a, b\"");
    assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_cell("Pixel Art Course"), "Pixel Art Course");
}
