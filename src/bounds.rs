//! What a stored event may hold. A signed payload is trusted to come from the store, not to be
//! sane: a fuzzed or buggy body can carry a price no shop charges, a made-up currency, a date in
//! 1970, or control characters that PostgreSQL refuses and terminals obey. Text is cleaned before
//! storage; an event whose figures are out of range is kept for the record but never counted or
//! announced, so it can neither skew `/stats` nor make later sales fail. A game's virtual currency
//! is the one deliberate exception to ISO 4217: announced as virtual currency, never summed into
//! money.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::domain::{Coupon, Customer, Detail, Event, Item, Money};

/// Largest amount counted, in minor units: ten billion dollars. Far above any real order, far
/// below what would overflow a sum of a year of them.
pub const MAX_MINOR: i64 = 1_000_000_000_000;

/// Largest quantity of one line counted.
pub const MAX_QUANTITY: u32 = 1_000_000;

/// How far ahead of its arrival an event may be dated: generous for clocks and time zones.
const MAX_AHEAD: Duration = Duration::days(2);

/// Earliest date an event may carry.
fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Removes characters that must never reach storage, logs or Discord: NUL and every other control
/// character (line breaks too, except in the free-text comment), and the bidirectional overrides
/// that make text read differently than it is stored.
pub fn clean(event: &mut Event) {
    for text in [
        &mut event.event_type,
        &mut event.idempotency_key,
        &mut event.external_id,
    ] {
        clean_line(text);
    }
    clean_customer(&mut event.customer);
    clean_opt(&mut event.url);
    if let Some(comment) = &mut event.comment {
        clean_text(comment, true);
    }
    match &mut event.detail {
        Detail::Sale(s) => {
            clean_money(&mut s.total);
            s.items.iter_mut().for_each(clean_item);
            s.coupons.iter_mut().for_each(clean_coupon);
            clean_opt(&mut s.payment_method);
            clean_opt(&mut s.transaction_id);
        }
        Detail::Refund(r) => {
            clean_money(&mut r.amount);
            clean_line(&mut r.sale_external_id);
            if let Some(m) = &mut r.original_total {
                clean_money(m);
            }
            r.items.iter_mut().for_each(clean_item);
            clean_opt(&mut r.payment_method);
            clean_opt(&mut r.reason);
        }
        Detail::Subscription(s) => {
            clean_line(&mut s.subscription_id);
            for text in [&mut s.status, &mut s.plan, &mut s.product] {
                clean_opt(text);
            }
            if let Some(m) = &mut s.amount {
                clean_money(m);
            }
        }
        Detail::Dispute(d) => {
            clean_line(&mut d.transaction_id);
            if let Some(m) = &mut d.amount {
                clean_money(m);
            }
            for text in [&mut d.status, &mut d.reason, &mut d.dispute_type] {
                clean_opt(text);
            }
        }
        Detail::Blocked(b) => {
            clean_line(&mut b.transaction_id);
            clean_opt(&mut b.reason);
            clean_opt(&mut b.reason_code);
        }
        Detail::Unreadable(u) => clean_line(&mut u.reason),
        Detail::Other => {}
    }
}

fn clean_customer(c: &mut Customer) {
    clean_opt(&mut c.name);
    clean_opt(&mut c.email);
}

fn clean_item(i: &mut Item) {
    clean_line(&mut i.name);
    clean_opt(&mut i.product_id);
    clean_opt(&mut i.variant);
}

fn clean_coupon(c: &mut Coupon) {
    clean_line(&mut c.code);
    clean_opt(&mut c.percentage);
}

fn clean_money(m: &mut Money) {
    clean_line(&mut m.currency);
}

fn clean_opt(text: &mut Option<String>) {
    if let Some(t) = text {
        clean_line(t);
    }
}

fn clean_line(text: &mut String) {
    clean_text(text, false);
}

fn clean_text(text: &mut String, keep_newlines: bool) {
    if text.chars().any(|c| unwanted(c, keep_newlines)) {
        text.retain(|c| !unwanted(c, keep_newlines));
    }
}

fn unwanted(c: char, keep_newlines: bool) -> bool {
    (c.is_control() && !(keep_newlines && c == '\n'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Why an event cannot be counted, if it cannot: the first figure out of range, in words a seller
/// can act on.
pub fn out_of_range(event: &Event, received_at: DateTime<Utc>) -> Option<String> {
    if let Detail::Unreadable(u) = &event.detail {
        return Some(format!("its body could not be read in full: {}", u.reason));
    }
    if event.occurred_at < earliest() || event.occurred_at > received_at + MAX_AHEAD {
        return Some(format!(
            "its date {} is not plausible",
            event.occurred_at.to_rfc3339()
        ));
    }
    let (headline, others): (Option<&Money>, Vec<Option<i64>>) = match &event.detail {
        Detail::Sale(s) => (
            Some(&s.total),
            std::iter::once(s.fees_minor)
                .chain(s.items.iter().map(|i| i.amount_minor))
                .chain(s.coupons.iter().map(|c| c.amount_minor))
                .collect(),
        ),
        Detail::Refund(r) => (
            Some(&r.amount),
            r.original_total
                .as_ref()
                .map(|m| m.minor)
                .into_iter()
                .map(Some)
                .collect(),
        ),
        Detail::Subscription(s) => (s.amount.as_ref(), Vec::new()),
        Detail::Dispute(d) => (d.amount.as_ref(), Vec::new()),
        Detail::Blocked(_) | Detail::Unreadable(_) | Detail::Other => (None, Vec::new()),
    };
    if let Some(money) = headline {
        if !(0..=MAX_MINOR).contains(&money.minor) {
            return Some(format!(
                "its amount ({} minor units) is outside 0 to {MAX_MINOR}",
                money.minor
            ));
        }
        // A game's virtual currency is named by the game, not by ISO 4217: it is announced as
        // what it is and never summed into money (storage keeps it out of the money tables).
        if money.virtual_currency {
            if !is_currency_name(&money.currency) {
                return Some(format!(
                    "its virtual currency name {:?} is not a plausible name",
                    money.currency
                ));
            }
        } else if !is_iso_currency(&money.currency) {
            return Some(format!(
                "its currency {:?} is not an ISO 4217 code",
                money.currency
            ));
        }
    }
    let items = match &event.detail {
        Detail::Sale(s) => s.items.as_slice(),
        Detail::Refund(r) => r.items.as_slice(),
        _ => &[],
    };
    if let Some(item) = items.iter().find(|i| i.quantity > MAX_QUANTITY) {
        return Some(format!(
            "a quantity ({}) is above {MAX_QUANTITY}",
            item.quantity
        ));
    }
    if let Some(bad) = others
        .into_iter()
        .flatten()
        .find(|m| !(0..=MAX_MINOR).contains(m))
    {
        return Some(format!(
            "a fee, line or coupon amount ({bad} minor units) is outside 0 to {MAX_MINOR}"
        ));
    }
    None
}

/// Active ISO 4217 codes, plus the fund and metal codes stores never use left out.
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
    "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU",
    "UZS", "VES", "VED", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR",
    "ZMW", "ZWG", "ZWL",
];

pub fn is_iso_currency(code: &str) -> bool {
    ISO_4217.contains(&code)
}

/// A virtual currency's name or SKU: short, one line, and not blank.
fn is_currency_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().count() <= 64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EventKind, Sale};

    fn sale(minor: i64, currency: &str) -> Event {
        Event {
            provider: "payhip".into(),
            event_type: "paid".into(),
            kind: EventKind::Sale,
            idempotency_key: "k".into(),
            external_id: "X".into(),
            occurred_at: Utc::now(),
            test: false,
            test_signed: false,
            customer: Customer::default(),
            url: None,
            comment: None,
            detail: Detail::Sale(Sale {
                total: Money::new(minor, currency),
                fees_minor: None,
                items: Vec::new(),
                coupons: Vec::new(),
                payment_method: None,
                vat_applied: None,
                transaction_id: None,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn ordinary_sales_are_in_range() {
        assert_eq!(out_of_range(&sale(2999, "USD"), Utc::now()), None);
        assert_eq!(out_of_range(&sale(0, "JPY"), Utc::now()), None);
        assert_eq!(out_of_range(&sale(MAX_MINOR, "EUR"), Utc::now()), None);
    }

    #[test]
    fn absurd_figures_are_named() {
        let now = Utc::now();
        let huge = out_of_range(&sale(i64::MAX, "USD"), now).unwrap();
        assert!(huge.contains("amount"), "{huge}");
        assert!(out_of_range(&sale(-1, "USD"), now).is_some());
        let currency = out_of_range(&sale(100, "XYZ1"), now).unwrap();
        assert!(currency.contains("ISO 4217"), "{currency}");
        let mut gold = sale(2000, "");
        if let Detail::Sale(s) = &mut gold.detail {
            s.total = Money::virtual_units(2000, "gold");
        }
        assert_eq!(
            out_of_range(&gold, now),
            None,
            "virtual currency is announced as such"
        );
        if let Detail::Sale(s) = &mut gold.detail {
            s.total = Money::virtual_units(2000, " ");
        }
        assert!(out_of_range(&gold, now).is_some(), "a blank name is not");
        let mut old = sale(100, "USD");
        old.occurred_at = Utc.with_ymd_and_hms(1970, 1, 2, 0, 0, 0).unwrap();
        assert!(out_of_range(&old, now).unwrap().contains("date"));
        let mut ahead = sale(100, "USD");
        ahead.occurred_at = now + Duration::days(30);
        assert!(out_of_range(&ahead, now).is_some());
        let mut fees = sale(100, "USD");
        if let Detail::Sale(s) = &mut fees.detail {
            s.fees_minor = Some(-5);
        }
        assert!(out_of_range(&fees, now).is_some());
    }

    #[test]
    fn control_characters_and_overrides_are_removed() {
        let mut e = sale(100, "US\0D");
        e.external_id = "A\0B\r\nC\u{1b}[31m".into();
        e.customer.name = Some("Eve\u{202E}gnp.exe".into());
        e.comment = Some("line one\nline\0 two".into());
        clean(&mut e);
        assert_eq!(e.external_id, "ABC[31m");
        assert_eq!(e.customer.name.as_deref(), Some("Evegnp.exe"));
        assert_eq!(e.comment.as_deref(), Some("line one\nline two"));
        assert_eq!(e.amount().map(|m| m.currency.as_str()), Some("USD"));
    }
}
