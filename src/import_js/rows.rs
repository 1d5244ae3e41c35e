//! The old bot's rows as domain events: its floats in major units made exact, its empty
//! currencies assumed USD, its product lists and date shapes read as it wrote them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::domain::{
    decimal_to_minor, Customer, Detail, Event, EventKind, Item, Money, Refund, Sale, Subscription,
};

/// One row of the old `sales` table (sales and refunds alike).
#[derive(Debug, Default, Clone)]
pub struct OldSale {
    pub id: String,
    pub kind: String,
    pub products: String,
    pub amount: Option<f64>,
    pub currency: String,
    pub customer: String,
    pub date: String,
    pub coupon: String,
    pub original_date: String,
}

/// The event an old row stands for, and whether its currency was assumed.
pub fn sale_event(old: &OldSale) -> Result<(Event, bool), String> {
    if old.id.trim().is_empty() {
        return Err("no id".into());
    }
    let at = parse_date(&old.date).ok_or_else(|| format!("unreadable date {:?}", old.date))?;
    let assumed = old.currency.trim().is_empty();
    let currency = if assumed { "USD" } else { old.currency.trim() };
    let amount = old.amount.ok_or("no amount")?;
    if !amount.is_finite() || amount < 0.0 {
        return Err(format!("amount {amount} is not a price"));
    }
    let exp = crate::domain::currency_exponent(&currency.to_ascii_uppercase());
    // The float is rounded to the currency's minor unit: 19.990000001 was $19.99.
    let minor = decimal_to_minor(
        &format!("{amount:.prec$}", prec = exp as usize),
        &currency.to_ascii_uppercase(),
    )
    .ok_or_else(|| format!("amount {amount} is out of range"))?;
    let money = Money::new(minor, currency);
    let items = product_names(&old.products)
        .into_iter()
        .map(|name| Item {
            product_id: None,
            name,
            quantity: 1,
            variant: None,
            on_sale: false,
            amount_minor: None,
            ..Item::default()
        })
        .collect();
    let refund = matches!(
        old.kind.trim().to_ascii_lowercase().as_str(),
        "refund" | "refunded"
    );
    let id = old.id.trim().to_owned();
    let (kind, key, detail) = if refund {
        (
            EventKind::Refund,
            format!("import-js:refund:{id}"),
            Detail::Refund(Refund {
                amount: money,
                sale_external_id: id.clone(),
                original_total: None,
                purchased_at: parse_date(&old.original_date),
                items,
                payment_method: None,
                vat_applied: None,
                reason: None,
                ..Refund::default()
            }),
        )
    } else {
        // The same key as a Payhip `paid` webhook: a sale both bots saw is stored once.
        (
            EventKind::Sale,
            format!("paid:{id}"),
            Detail::Sale(Sale {
                total: money,
                fees_minor: None,
                items,
                coupons: Vec::new(),
                payment_method: None,
                vat_applied: None,
                transaction_id: None,
                ..Sale::default()
            }),
        )
    };
    let mut event = base(kind, key, id, at, &old.customer);
    event.event_type = if refund { "refunded" } else { "paid" }.into();
    event.detail = detail_with_coupons(detail, &old.coupon);
    Ok((event, assumed))
}

fn detail_with_coupons(detail: Detail, coupon: &str) -> Detail {
    match detail {
        Detail::Sale(mut s) if !coupon.trim().is_empty() && s.coupons.is_empty() => {
            s.coupons.push(crate::domain::Coupon {
                code: coupon.trim().to_owned(),
                percentage: None,
                amount_minor: None,
            });
            Detail::Sale(s)
        }
        other => other,
    }
}

pub fn subscription_event(
    id: &str,
    kind: &str,
    product: &str,
    plan: &str,
    customer: &str,
    date: &str,
) -> Result<Event, String> {
    if id.trim().is_empty() {
        return Err("no id".into());
    }
    let at = parse_date(date).ok_or_else(|| format!("unreadable date {date:?}"))?;
    let cancelled = kind.to_ascii_lowercase().contains("delete")
        || kind.to_ascii_lowercase().contains("cancel");
    let (event_kind, event_type) = if cancelled {
        (EventKind::SubscriptionCancelled, "subscription.deleted")
    } else {
        (EventKind::SubscriptionStarted, "subscription.created")
    };
    let id = id.trim().to_owned();
    let non_empty = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let mut event = base(
        event_kind,
        format!("{event_type}:{id}"),
        id.clone(),
        at,
        customer,
    );
    event.event_type = event_type.into();
    event.detail = Detail::Subscription(Subscription {
        subscription_id: id,
        status: Some(if cancelled { "canceled" } else { "active" }.into()),
        plan: non_empty(plan),
        product: non_empty(product),
        started_at: (!cancelled).then_some(at),
        cancelled_at: cancelled.then_some(at),
        amount: None,
        ..Subscription::default()
    });
    Ok(event)
}

fn base(kind: EventKind, key: String, id: String, at: DateTime<Utc>, customer: &str) -> Event {
    let customer = customer.trim();
    Event {
        provider: crate::providers::payhip::NAME.to_owned(),
        event_type: String::new(),
        kind,
        idempotency_key: key,
        external_id: id,
        occurred_at: at,
        test: false,
        test_signed: false,
        customer: Customer {
            name: None,
            email: customer.contains('@').then(|| customer.to_owned()),
        },
        url: None,
        comment: Some("imported from the JavaScript bot".into()),
        detail: Detail::Other,
    }
}

/// The old `products` column: a JSON array (of names or of objects with a name), or names
/// separated by commas.
pub fn product_names(text: &str) -> Vec<String> {
    let text = text.trim();
    if let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(text) {
        return items
            .iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => ["product_name", "name", "title"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(|n| n.as_str()).map(str::to_owned)),
                _ => None,
            })
            .collect();
    }
    text.split(',')
        .map(|s| s.trim().trim_end_matches("(SALE)").trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Unix seconds or milliseconds, RFC 3339, `YYYY-MM-DD HH:MM:SS` or a bare date (all UTC).
pub fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<i64>() {
        // Seconds until the year 5138; anything larger is milliseconds.
        return if n.abs() < 100_000_000_000 {
            Utc.timestamp_opt(n, 0).single()
        } else {
            Utc.timestamp_millis_opt(n).single()
        };
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn old(kind: &str, amount: f64, currency: &str) -> OldSale {
        OldSale {
            id: "TX1".into(),
            kind: kind.into(),
            products: r#"["Course", "Pack"]"#.into(),
            amount: Some(amount),
            currency: currency.into(),
            customer: "a@example.com".into(),
            date: "2025-03-01T10:00:00.000Z".into(),
            ..OldSale::default()
        }
    }

    #[test]
    fn floats_become_exact_minor_units() {
        let (e, assumed) = sale_event(&old("paid", 19.990000001, "EUR")).unwrap();
        assert!(!assumed);
        assert_eq!(e.amount(), Some(&Money::new(1999, "EUR")));
        assert_eq!(e.idempotency_key, "paid:TX1");
        let (e, _) = sale_event(&old("paid", 1200.0, "JPY")).unwrap();
        assert_eq!(e.amount().map(|m| m.minor), Some(1200));
    }

    #[test]
    fn an_empty_currency_is_assumed_usd_and_said_so() {
        let (e, assumed) = sale_event(&old("paid", 5.0, "")).unwrap();
        assert!(assumed);
        assert_eq!(e.amount(), Some(&Money::new(500, "USD")));
    }

    #[test]
    fn refunds_and_bad_rows() {
        let (e, _) = sale_event(&old("refund", 5.0, "USD")).unwrap();
        assert_eq!(e.kind, EventKind::Refund);
        assert!(sale_event(&old("paid", -1.0, "USD")).is_err());
        assert!(sale_event(&old("paid", f64::NAN, "USD")).is_err());
        let mut no_date = old("paid", 1.0, "USD");
        no_date.date = "yesterday".into();
        assert!(sale_event(&no_date).is_err());
    }

    #[test]
    fn products_and_dates_in_the_shapes_the_old_bot_wrote() {
        assert_eq!(product_names("A (SALE), B"), vec!["A", "B"]);
        assert_eq!(
            product_names(r#"[{"name":"A"},{"product_name":"B"}]"#),
            vec!["A", "B"]
        );
        let expected = Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, 0).unwrap();
        for text in [
            "1740823200",
            "1740823200000",
            "2025-03-01T10:00:00Z",
            "2025-03-01 10:00:00",
        ] {
            assert_eq!(parse_date(text), Some(expected), "{text}");
        }
    }
}
