//! Unit tests of the `/sales`, `/stats` and `/export` builders.

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
            event: sale("=1+1", -1250),
        },
        true,
    );
    assert_eq!(
        row,
        "2023-11-14T22:13:20Z,payhip,paid,sale,A1,'-€12.50,EUR,-1250,'=1+1,'\tPayPal,<@1> **Ada**,,\n"
    );
}

#[test]
fn a_sales_line_shows_store_text_inert() {
    let line = sales_line(&sale("[free](https://evil.example)", 999), "Payhip", true);
    assert_eq!(
        line,
        r"<t:1700000000:d> · **Sale** · \[free\](https\://evil.example) · €9.99 · \<@1> \*\*Ada\*\* · Payhip"
    );
}

#[test]
fn separators_and_quotes_are_quoted() {
    assert_eq!(csv_cell("a, b"), "\"a, b\"");
    assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_cell("Pixel Art Course"), "Pixel Art Course");
}
