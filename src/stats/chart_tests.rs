//! The chart for a month, for today and for an empty period: decoded back from the PNG.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::*;
use crate::stats::series::buckets;
use crate::stats::{Filter, Period, Report};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A report over `[from, to)` with the given bars per currency (index, gross, refunded).
fn report(from: &str, to: &str, bars: &[(&str, usize, i64, i64)]) -> Report {
    let period = Period {
        label: "test".into(),
        from: at(from),
        to: at(to),
        comparison: None,
    };
    let (step, b) = buckets(&period, Tz::UTC);
    let mut currencies: BTreeMap<String, Vec<Bar>> = BTreeMap::new();
    for (currency, i, gross, refunded) in bars {
        currencies
            .entry((*currency).to_owned())
            .or_insert_with(|| vec![Bar::default(); b.len()])[*i] = Bar {
            gross: *gross,
            refunded: *refunded,
        };
    }
    Report {
        period,
        filter: Filter::default(),
        currencies: vec![],
        previous: None,
        subscriptions_started: 0,
        subscriptions_cancelled: 0,
        subscriptions_active: 0,
        top_products: vec![],
        risks: vec![],
        chart: Series {
            step,
            starts: b.into_iter().map(|(s, _, _)| s).collect(),
            currencies,
        },
        time_zone: Tz::UTC,
    }
}

fn decode(png: &[u8]) -> image::RgbImage {
    image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .expect("a valid PNG")
        .to_rgb8()
}

/// Whether the panels (below the header and its legend) use `color`.
fn has(img: &image::RgbImage, color: RGBColor) -> bool {
    img.enumerate_pixels()
        .any(|(_, y, p)| y >= HEADER_HEIGHT && p.0 == [color.0, color.1, color.2])
}

#[test]
fn a_month_gets_one_panel_per_currency_with_sales_and_refunds_apart() {
    let r = report(
        "2026-11-01T00:00:00Z",
        "2026-11-23T14:05:00Z",
        &[
            ("USD", 0, 2999, 0),
            ("USD", 4, 5998, 2999),
            ("USD", 22, 999, 0),
            ("EUR", 10, 999, 0),
        ],
    );
    assert_eq!(r.chart.starts.len(), 23, "every day, quiet ones included");
    let png = render(&r).unwrap().expect("a chart");
    if let Some(dir) = std::env::var_os("CHART_DUMP") {
        std::fs::write(std::path::Path::new(&dir).join("month.png"), &png).unwrap();
    }
    let img = decode(&png);
    assert_eq!(img.dimensions(), (WIDTH, height(2)));
    assert_eq!(height(2), HEADER_HEIGHT + 2 * PANEL_HEIGHT);
    assert!(has(&img, SALES) && has(&img, REFUNDS));
    let corner = img.get_pixel(2, 2).0;
    assert_eq!(corner, [0x2B, 0x2D, 0x31], "Discord's dark background");
}

#[test]
fn today_is_drawn_by_the_hour() {
    let r = report(
        "2026-11-23T00:00:00Z",
        "2026-11-23T14:05:00Z",
        &[("USD", 9, 2999, 0), ("USD", 13, 999, 0)],
    );
    assert_eq!(r.chart.step, Step::Hour);
    assert_eq!(r.chart.starts.len(), 15);
    let png = render(&r).unwrap().expect("a chart");
    if let Some(dir) = std::env::var_os("CHART_DUMP") {
        std::fs::write(std::path::Path::new(&dir).join("today.png"), &png).unwrap();
    }
    let img = decode(&png);
    assert_eq!(img.dimensions(), (WIDTH, height(1)));
    assert!(has(&img, SALES));
    assert!(!has(&img, REFUNDS), "no refund, no red");
}

#[test]
fn an_empty_period_has_no_chart() {
    let r = report("2026-11-01T00:00:00Z", "2026-11-23T14:05:00Z", &[]);
    assert!(render(&r).unwrap().is_none());
    let zeros = report(
        "2026-11-01T00:00:00Z",
        "2026-11-23T14:05:00Z",
        &[("USD", 3, 0, 0)],
    );
    assert!(render(&zeros).unwrap().is_none());
}

#[test]
fn more_currencies_than_panels_keep_the_busiest() {
    let bars: Vec<(&str, usize, i64, i64)> = ["USD", "EUR", "GBP", "JPY", "CAD", "AUD"]
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i, 1000 * (i as i64 + 1), 0))
        .collect();
    let r = report("2026-11-01T00:00:00Z", "2026-11-23T14:05:00Z", &bars);
    let img = decode(&render(&r).unwrap().expect("a chart"));
    assert_eq!(img.dimensions(), (WIDTH, height(MAX_PANELS)));
}
