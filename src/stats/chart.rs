//! The revenue chart, drawn for people who glance at it in Discord: a bar for every hour, day or
//! month of the period (a quiet day is a visible gap, not a missing one), one panel per currency
//! with its code on the axis (amounts in different currencies never share a scale), sales above
//! the line and refunds below it, on Discord's dark embed background.

use plotters::prelude::*;

use super::series::{Bar, Series, Step};
use super::{window, Report};
use crate::domain::{currency_exponent, Money};

pub const WIDTH: u32 = 800;
pub const HEADER_HEIGHT: u32 = 56;
pub const PANEL_HEIGHT: u32 = 300;
/// More currencies than this are left to the figures; the chart keeps the busiest.
pub const MAX_PANELS: usize = 4;

/// Discord's dark-theme embed background, its text grey, and its green and red.
const BACKGROUND: RGBColor = RGBColor(0x2B, 0x2D, 0x31);
const TEXT: RGBColor = RGBColor(0xDB, 0xDE, 0xE1);
const GRID: RGBColor = RGBColor(0x3F, 0x41, 0x47);
const AXIS: RGBColor = RGBColor(0x80, 0x84, 0x8E);
pub const SALES: RGBColor = RGBColor(0x57, 0xF2, 0x87);
pub const REFUNDS: RGBColor = RGBColor(0xED, 0x42, 0x45);

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("drawing the chart: {0}")]
    Draw(String),
    #[error("encoding the chart: {0}")]
    Encode(#[from] image::ImageError),
}

fn draw_err(e: impl std::fmt::Display) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// The image's height for `panels` currencies.
pub fn height(panels: usize) -> u32 {
    HEADER_HEIGHT + PANEL_HEIGHT * panels.clamp(1, MAX_PANELS) as u32
}

/// The report's chart as a PNG, or `None` when the period has no sale and no refund to draw.
pub fn render(report: &Report) -> Result<Option<Vec<u8>>, ChartError> {
    let series = &report.chart;
    if series.is_empty() {
        return Ok(None);
    }
    let mut panels: Vec<(&String, &Vec<Bar>)> = series
        .currencies
        .iter()
        .filter(|(_, bars)| bars.iter().any(|b| b.gross != 0 || b.refunded != 0))
        .collect();
    panels.sort_by_key(|(_, bars)| std::cmp::Reverse(bars.iter().map(|b| b.gross).sum::<i64>()));
    let hidden = panels.len().saturating_sub(MAX_PANELS);
    panels.truncate(MAX_PANELS);
    let h = height(panels.len());
    register_font();
    let mut buf = vec![0u8; (WIDTH * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, h)).into_drawing_area();
        root.fill(&BACKGROUND).map_err(draw_err)?;
        let (header, body) = root.split_vertically(HEADER_HEIGHT);
        draw_header(&header, report, hidden)?;
        for (area, (currency, bars)) in body.split_evenly((panels.len(), 1)).iter().zip(panels) {
            draw_panel(area, series, currency, bars)?;
        }
        root.present().map_err(draw_err)?;
    }
    let img = image::RgbImage::from_raw(WIDTH, h, buf)
        .ok_or_else(|| ChartError::Draw("the image buffer has the wrong size".into()))?;
    let mut png = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut png),
        image::ImageOutputFormat::Png,
    )?;
    Ok(Some(png))
}

fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&TEXT)
}

fn draw_header<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    report: &Report,
    hidden: usize,
) -> Result<(), ChartError> {
    let per = match report.chart.step {
        Step::Hour => "hour",
        Step::Day => "day",
        Step::Month => "month",
    };
    let period = &report.period;
    let tz = report.time_zone;
    let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).naive_local();
    let span = window::span_label(
        local(period.from),
        local(period.to),
        chrono::Datelike::year(&local(period.to)),
    );
    let mut title = format!("Sales and refunds per {per} · {span}");
    if hidden > 0 {
        let more = super::words::count(hidden as i64, "more currency", "more currencies");
        title.push_str(&format!(" · {more} in the figures"));
    }
    area.draw(&Text::new(title, (16, 18), font(22)))
        .map_err(draw_err)?;
    let x = WIDTH as i32 - 250;
    for (i, (color, label)) in [(SALES, "sales ▲"), (REFUNDS, "refunds ▼")]
        .into_iter()
        .enumerate()
    {
        let x = x + i as i32 * 118;
        area.draw(&Rectangle::new([(x, 22), (x + 14, 36)], color.filled()))
            .map_err(draw_err)?;
        area.draw(&Text::new(label, (x + 20, 20), font(18)))
            .map_err(draw_err)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    series: &Series,
    currency: &str,
    bars: &[Bar],
) -> Result<(), ChartError> {
    let unit = 10f64.powi(currency_exponent(currency) as i32);
    // Display only: every figure in the replies comes from integer arithmetic.
    let major = |minor: i64| minor as f64 / unit;
    let top = bars.iter().map(|b| major(b.gross)).fold(0.0, f64::max);
    let bottom = bars.iter().map(|b| major(b.refunded)).fold(0.0, f64::max);
    let hi = if top > 0.0 { top * 1.12 } else { bottom * 0.25 };
    let lo = if bottom > 0.0 { -bottom * 1.12 } else { 0.0 };
    let n = bars.len();
    let sum = |f: fn(&Bar) -> i64| Money::new(bars.iter().map(f).sum(), currency);
    let net = Money::new(bars.iter().map(|b| b.gross - b.refunded).sum(), currency);
    let caption = format!(
        "{currency}: net {net} · sales {} · refunds {}",
        sum(|b| b.gross),
        sum(|b| b.refunded)
    );
    let mut chart = ChartBuilder::on(area)
        .caption(caption, font(20))
        .margin_left(12)
        .margin_right(24)
        .margin_bottom(8)
        .x_label_area_size(34)
        .y_label_area_size(84)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), lo..hi)
        .map_err(draw_err)?;
    let label = |x: &f64| -> String {
        let i = x.round();
        if (x - i).abs() > 1e-6 || i < 0.0 {
            return String::new();
        }
        series.starts.get(i as usize).map_or_else(String::new, |s| {
            s.format(match series.step {
                Step::Hour => "%H:00",
                Step::Day => "%-d %b",
                Step::Month => "%b %Y",
            })
            .to_string()
        })
    };
    let decimals = if hi - lo >= 20.0 { 0 } else { 2 };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(BACKGROUND)
        .axis_style(AXIS)
        .x_labels(8)
        .x_label_formatter(&label)
        .y_labels(6)
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .y_desc(currency)
        .label_style(font(17))
        .axis_desc_style(font(18))
        .draw()
        .map_err(draw_err)?;
    let width = 0.38;
    let rect = |i: usize, value: f64, color: RGBColor| {
        let x = i as f64;
        Rectangle::new([(x - width, 0.0), (x + width, value)], color.filled())
    };
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| b.gross != 0)
                .map(|(i, b)| rect(i, major(b.gross), SALES)),
        )
        .map_err(draw_err)?;
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| b.refunded != 0)
                .map(|(i, b)| rect(i, -major(b.refunded), REFUNDS)),
        )
        .map_err(draw_err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(-0.5, 0.0), (n as f64 - 0.5, 0.0)],
            AXIS.stroke_width(1),
        )))
        .map_err(draw_err)?;
    Ok(())
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

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
