//! Pure builders for what commands show: stats embeds, sales pages, CSV, the revenue chart.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::db::StoredEvent;
use crate::domain::{Detail, Event, EventKind, Item, Money};
use crate::notice::escape;
use crate::notice::message::{Embed, Field, Footer};
use crate::stats::words::count;
use crate::stats::Report;

/// `/sales` lines per page unless the caller asks for another number.
pub const PAGE_SIZE: usize = 10;

/// The `/stats` embed: one field per currency, never summed across currencies.
pub fn stats_embed(report: &Report, color: u32) -> Embed {
    let mut fields = Vec::new();
    for f in &report.currencies {
        let mut lines = vec![
            format!("Sales: **{}** · Gross: **{}**", f.sales, f.money(f.gross)),
            format!("Refunds: {} ({})", f.refunds, f.money(f.refunded)),
            format!("Net: **{}**", f.money(f.net())),
        ];
        if let Some(aov) = f.average_order() {
            lines.push(format!("Average order: {}", f.money(aov)));
        }
        if let Some(rate) = f.refund_rate() {
            lines.push(format!("Refund rate: {rate:.1} %"));
        }
        if let Some(r) = report.risk_for(&f.currency) {
            lines.push(format!("⚠️ {}", r.line()));
        }
        if let Some(c) = report.comparison_line(f) {
            lines.push(format!("Net vs {c}"));
        }
        fields.push(Field {
            name: escape::text(&f.currency),
            value: lines.join("\n"),
            inline: true,
        });
    }
    if report.currencies.is_empty() {
        fields.push(Field {
            name: "Sales".into(),
            value: "No sales in this period.".into(),
            inline: false,
        });
    }
    fields.push(Field {
        name: "Subscriptions".into(),
        value: format!(
            "{} new · {} cancelled · {} active now",
            report.subscriptions_started,
            report.subscriptions_cancelled,
            report.subscriptions_active
        ),
        inline: false,
    });
    if !report.top_products.is_empty() {
        let top = report
            .top_products
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{}. {} — {}, {}",
                    i + 1,
                    escape::text(&p.product),
                    count(p.orders, "order", "orders"),
                    count(p.quantity, "unit", "units")
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        fields.push(Field {
            name: "Top products".into(),
            value: top,
            inline: false,
        });
    }
    let mut scope = Vec::new();
    if let Some(p) = &report.filter.provider {
        scope.push(format!("store {p}"));
    }
    if let Some(p) = &report.filter.product {
        scope.push(format!("product {}", escape::text(p)));
    }
    let mut embed = Embed {
        title: format!("Sales stats: {}", report.period.label),
        description: Some(format!(
            "<t:{}:f> → <t:{}:f>{}",
            report.period.from.timestamp(),
            report.period.to.timestamp(),
            if scope.is_empty() {
                String::new()
            } else {
                format!("\n{}", scope.join(", "))
            }
        )),
        url: None,
        color,
        fields,
        footer: Some(Footer {
            text: "Test events are never counted".into(),
        }),
        timestamp: Some(
            report
                .period
                .to
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
    };
    embed.fit();
    embed
}

fn kind_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Sale => "Sale",
        EventKind::Refund => "Refund",
        EventKind::SubscriptionStarted => "New subscription",
        EventKind::SubscriptionUpdated => "Subscription change",
        EventKind::SubscriptionCancelled => "Cancelled subscription",
        EventKind::SubscriptionNotRenewing => "Subscription will not renew",
        EventKind::Dispute => "Dispute",
        EventKind::PaymentBlocked => "Blocked payment",
        EventKind::Other => "Other",
    }
}

/// One line of `/sales`: when, what, the order id, what was bought and how many, the amount (a
/// refund says whether it was partial), the buyer if shown, and the store.
pub fn sales_line(e: &Event, provider_label: &str, show_customer: bool) -> String {
    let mut parts = vec![
        format!("<t:{}:d>", e.occurred_at.timestamp()),
        format!("**{}**", kind_label(e.kind)),
    ];
    match &e.detail {
        Detail::Sale(s) => {
            parts.push(format!("`{}`", escape::code(&e.external_id)));
            parts.extend(items(&s.items));
            parts.push(escape::text(&s.total.to_string()));
        }
        Detail::Refund(r) => {
            parts.push(format!("`{}`", escape::code(&r.sale_external_id)));
            parts.extend(items(&r.items));
            let amount = escape::text(&r.amount.to_string());
            parts.push(match &r.original_total {
                Some(total)
                    if total.currency == r.amount.currency && total.minor > r.amount.minor =>
                {
                    format!(
                        "{amount} (partial, of {})",
                        escape::text(&total.to_string())
                    )
                }
                Some(_) => format!("{amount} (full)"),
                None => amount,
            });
        }
        Detail::Subscription(s) => {
            parts.push(format!("`{}`", escape::code(&s.subscription_id)));
            let what = match (&s.product, &s.plan) {
                (Some(product), Some(plan)) => Some(format!(
                    "{} · plan {}",
                    escape::text(product),
                    escape::text(plan)
                )),
                (Some(only), None) => Some(escape::text(only)),
                (None, Some(plan)) => Some(format!("plan {}", escape::text(plan))),
                (None, None) => None,
            };
            parts.extend(what);
            parts.extend(s.amount.as_ref().map(|m| escape::text(&m.to_string())));
        }
        Detail::Dispute(d) => {
            parts.push(format!("`{}`", escape::code(&d.transaction_id)));
            parts.extend(d.amount.as_ref().map(|m| escape::text(&m.to_string())));
        }
        Detail::Blocked(b) => {
            parts.push(format!("`{}`", escape::code(&b.transaction_id)));
            parts.extend(e.product_summary().map(|p| escape::text(&p)));
        }
        Detail::Unreadable(_) | Detail::Other => {}
    }
    if show_customer {
        if let Some(c) = e.customer.display_name() {
            parts.push(escape::text(&c));
        }
    }
    parts.push(provider_label.to_owned());
    parts.join(" · ")
}

/// "2× Pixel Art Course (Lifetime), 1× Palette Pack".
fn items(items: &[Item]) -> Option<String> {
    (!items.is_empty()).then(|| {
        items
            .iter()
            .map(|i| {
                let mut s = format!("{}× {}", i.quantity, escape::text(&i.name));
                if let Some(v) = i.variant.as_deref().filter(|v| !v.trim().is_empty()) {
                    s.push_str(&format!(" ({})", escape::text(v)));
                }
                s
            })
            .collect::<Vec<_>>()
            .join(", ")
    })
}

/// One page of `/sales`. `first` is the 0-based position of `lines[0]` among the `total`
/// matching events; pages hold `per_page` lines.
pub fn sales_page(
    lines: &[String],
    first: usize,
    per_page: usize,
    total: usize,
    color: u32,
    title: &str,
) -> Embed {
    let per_page = per_page.max(1);
    let pages = total.div_ceil(per_page).max(1);
    let page = (first / per_page).min(pages - 1);
    let footer = if pages == 1 || lines.is_empty() {
        count(total as i64, "event", "events")
    } else {
        format!(
            "Page {} of {pages} · {}–{} of {}",
            page + 1,
            first + 1,
            first + lines.len(),
            count(total as i64, "event", "events")
        )
    };
    let mut embed = Embed {
        title: title.to_owned(),
        description: Some(if lines.is_empty() {
            "Nothing recorded in this period.".into()
        } else {
            lines.join("\n")
        }),
        url: None,
        color,
        fields: vec![],
        footer: Some(Footer { text: footer }),
        timestamp: None,
    };
    embed.fit();
    embed
}

/// A CSV cell that a spreadsheet shows as text, never runs: a cell starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return is a formula (or becomes one once the program strips the
/// whitespace), so it gets a leading `'`. Plain numbers, negative ones included, stay numbers so
/// that sums still work.
fn csv_cell(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_plain_number(s);
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// `-12`, `-12.50`: an optional minus, digits, and optionally a point and more digits.
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    [whole, fraction]
        .iter()
        .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A byte-order mark first, so Excel reads the file as UTF-8 (names with accents, €) instead of
/// the system code page.
pub const CSV_HEADER: &str = "\u{FEFF}occurred_at,local_time,provider,type,kind,id,amount,currency,amount_minor,products,payment_method,customer,vat_minor,vat_country\n";

/// One CSV row; the customer column follows the same privacy rule as notices. Amounts are signed
/// (a refund is negative) so that a plain sum of a column is the net; `local_time` is in the
/// seller's time zone, in a form spreadsheets read as a date.
pub fn csv_row(e: &StoredEvent, show_customer: bool, tz: Tz) -> String {
    let ev = &e.event;
    let amount = ev.amount().map(|m| match ev.kind {
        EventKind::Refund => Money::new(-m.minor.abs(), m.currency.clone()),
        _ => m.clone(),
    });
    let sale = match &ev.detail {
        crate::domain::Detail::Sale(s) => Some(s),
        _ => None,
    };
    let customer = if show_customer {
        ev.customer.display_name().unwrap_or_default()
    } else {
        String::new()
    };
    let cells = [
        ev.occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ev.occurred_at
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        ev.provider.clone(),
        ev.event_type.clone(),
        ev.kind.as_str().to_owned(),
        ev.external_id.clone(),
        amount.as_ref().map(decimal).unwrap_or_default(),
        amount
            .as_ref()
            .map(|m| m.currency.clone())
            .unwrap_or_default(),
        amount
            .as_ref()
            .map(|m| m.minor.to_string())
            .unwrap_or_default(),
        ev.product_summary().unwrap_or_default(),
        ev.payment_method().unwrap_or_default().to_owned(),
        customer,
        sale.and_then(|s| s.vat_minor)
            .map(|v| v.to_string())
            .unwrap_or_default(),
        sale.and_then(|s| s.vat_country.clone()).unwrap_or_default(),
    ];
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}

/// `-29.99`, `1200`: the amount in major units as a plain number a spreadsheet can add up.
fn decimal(m: &Money) -> String {
    let exp = m.exponent();
    let sign = if m.minor < 0 { "-" } else { "" };
    let abs = m.minor.unsigned_abs();
    if exp == 0 {
        return format!("{sign}{abs}");
    }
    let unit = 10u64.pow(exp);
    format!("{sign}{}.{:0w$}", abs / unit, abs % unit, w = exp as usize)
}

pub fn now_label(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
#[path = "views_tests.rs"]
mod tests;
