//! Pure builders for what commands show: stats embeds, sales pages, CSV, the revenue chart.

use chrono::{DateTime, Utc};

use super::escape;
use super::message::{Embed, Field, Footer};
use crate::db::StoredEvent;
use crate::domain::{Event, EventKind};
use crate::stats::{change, Report};

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
        if let Some(c) = report
            .previous_for(&f.currency)
            .and_then(|p| change(f.net(), p.net()))
        {
            lines.push(format!("Net vs previous period: {c}"));
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
                    "{}. {} — {} orders, {} units",
                    i + 1,
                    escape::text(&p.product),
                    p.orders,
                    p.quantity
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
        scope.push(format!("provider {p}"));
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

/// One line of `/sales`.
pub fn sales_line(e: &Event, provider_label: &str, show_customer: bool) -> String {
    let mut parts = vec![
        format!("<t:{}:d>", e.occurred_at.timestamp()),
        format!("**{}**", kind_label(e.kind)),
    ];
    if let Some(p) = e.product_summary() {
        parts.push(escape::text(&p));
    }
    if let Some(m) = e.amount() {
        parts.push(escape::text(&m.to_string()));
    }
    if show_customer {
        if let Some(c) = e.customer.display_name() {
            parts.push(escape::text(&c));
        }
    }
    parts.push(provider_label.to_owned());
    parts.join(" · ")
}

/// A page of `/sales`; `page` counts from 0.
pub fn sales_page(lines: &[String], page: usize, total: i64, color: u32, title: &str) -> Embed {
    let pages = lines.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.min(pages - 1);
    let body = lines
        .iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let mut embed = Embed {
        title: title.to_owned(),
        description: Some(if body.is_empty() {
            "Nothing recorded in this period.".into()
        } else {
            body
        }),
        url: None,
        color,
        fields: vec![],
        footer: Some(Footer {
            text: format!(
                "Page {} of {pages} · {} shown of {total}",
                page + 1,
                lines.len()
            ),
        }),
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

pub const CSV_HEADER: &str = "occurred_at,provider,type,kind,id,amount,currency,amount_minor,products,payment_method,customer,vat_minor,vat_country\n";

/// One CSV row; the customer column follows the same privacy rule as notices.
pub fn csv_row(e: &StoredEvent, show_customer: bool) -> String {
    let ev = &e.event;
    let amount = ev.amount();
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
        ev.provider.clone(),
        ev.event_type.clone(),
        ev.kind.as_str().to_owned(),
        ev.external_id.clone(),
        amount.map(|m| m.to_string()).unwrap_or_default(),
        amount.map(|m| m.currency.clone()).unwrap_or_default(),
        amount.map(|m| m.minor.to_string()).unwrap_or_default(),
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

/// A PNG line chart of gross revenue per day, one line per currency (major units).
pub fn revenue_chart(report: &Report) -> Result<Vec<u8>, String> {
    use plotters::prelude::*;
    const W: u32 = 800;
    const H: u32 = 400;
    register_font();
    let days: Vec<_> = report.daily.keys().copied().collect();
    let currencies: std::collections::BTreeSet<String> = report
        .daily
        .values()
        .flat_map(|m| m.keys().cloned())
        .collect();
    let mut buf = vec![0u8; (W * H * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let max = report
            .daily
            .values()
            .flat_map(|m| m.iter().map(|(c, v)| major(*v, c)))
            .fold(0.0_f64, f64::max)
            .max(1.0);
        let n = days.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("Revenue per day: {}", report.period.label),
                ("sans-serif", 22),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0..n, 0.0..max * 1.1)
            .map_err(|e| e.to_string())?;
        let labels = days.clone();
        chart
            .configure_mesh()
            .x_labels(n.min(8))
            .x_label_formatter(&|i| {
                labels
                    .get(*i)
                    .map(|d| d.format("%m-%d").to_string())
                    .unwrap_or_default()
            })
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, currency) in currencies.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points: Vec<(usize, f64)> = days
                .iter()
                .enumerate()
                .map(|(x, d)| {
                    (
                        x,
                        report
                            .daily
                            .get(d)
                            .and_then(|m| m.get(currency))
                            .map_or(0.0, |v| major(*v, currency)),
                    )
                })
                .collect();
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(currency.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
        }
        if !currencies.is_empty() {
            chart
                .configure_series_labels()
                .border_style(BLACK)
                .label_font(("sans-serif", 13))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    let img = image::RgbImage::from_raw(W, H, buf)
        .ok_or_else(|| "chart buffer has the wrong size".to_owned())?;
    let mut png = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut png),
        image::ImageOutputFormat::Png,
    )
    .map_err(|e| e.to_string())?;
    Ok(png)
}

/// A display value for the chart only; money arithmetic never uses floats.
fn major(minor: i64, currency: &str) -> f64 {
    minor as f64 / 10f64.powi(crate::domain::currency_exponent(currency) as i32)
}

/// The bundled font, so charts render on a bare server with no fonts installed.
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let font: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let _ =
            plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, font);
    });
}

pub fn now_label(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
#[path = "views_tests.rs"]
mod tests;
