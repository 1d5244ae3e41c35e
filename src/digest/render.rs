//! What a digest shows: the `/stats` embed of its period under a digest's title, "(late)" when it
//! went out after the bot was offline at its time, and the nonce that makes a repeat a no-op.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::schedule::Due;
use crate::config::digests::Every;
use crate::discord::views::stats_embed;
use crate::notice::message::{AllowedMentions, Footer, Message};
use crate::stats::{window, Report};

/// Discord's blurple: a digest is neither a sale (green) nor a refund (red).
pub const COLOR: u32 = 0x5865F2;

/// The chart's file name, which the embed's image points at.
pub const CHART_FILE: &str = "chart.png";

pub fn title(due: &Due, label: &str, late: bool) -> String {
    let kind = match due.every {
        Every::Day => "Daily digest",
        Every::Week => "Weekly digest",
    };
    let late = if late { " (late)" } else { "" };
    format!("{kind}: {label}{late}")
}

/// The message for `report`, the figures of `due`'s period. `late` is when it was due, if it
/// is going out well after that.
pub fn message(report: &Report, due: &Due, late: Option<DateTime<Utc>>, tz: Tz) -> Message {
    let mut embed = stats_embed(report, COLOR);
    embed.title = title(due, &report.period.label, late.is_some());
    let mut footer = "Test events are never counted".to_owned();
    if let Some(at) = late {
        footer = format!(
            "Posted late: the bot was offline at {} ({}) · {footer}",
            window::local_time(at, tz),
            tz.name()
        );
    }
    embed.footer = Some(Footer { text: footer });
    embed.fit();
    Message {
        content: None,
        embeds: vec![embed],
        allowed_mentions: AllowedMentions::default(),
        nonce: Some(nonce(&due.key)),
        enforce_nonce: Some(true),
    }
}

/// At most 25 characters (Discord's limit) and the same for the same key in every instance and
/// version: FNV-1a, not std's hasher, whose output may change between Rust releases.
pub fn nonce(key: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("digest{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::digests::Digest;
    use crate::digest::schedule::latest_due;
    use crate::stats::series::{Series, Step};
    use crate::stats::{Figures, Filter, ProductFigures};

    fn due(every: &str) -> Due {
        let d: Digest =
            serde_json::from_str(&format!(r#"{{ "every": "{every}", "channelId": "7" }}"#))
                .unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-08T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        latest_due(&d, 7, now, Tz::UTC)
    }

    fn report(due: &Due) -> Report {
        let usd = |sales, gross, refunds, refunded| Figures {
            currency: "USD".into(),
            sales,
            gross,
            fees: 0,
            refunds,
            refunded,
        };
        Report {
            period: due.period(Tz::UTC),
            filter: Filter::default(),
            currencies: vec![usd(3, 9000, 1, 3000)],
            previous: Some(vec![usd(2, 5000, 0, 0)]),
            subscriptions_started: 2,
            subscriptions_cancelled: 1,
            subscriptions_active: 9,
            top_products: vec![ProductFigures {
                product: "Palette Pack".into(),
                orders: 3,
                quantity: 3,
            }],
            risks: vec![],
            chart: Series {
                step: Step::Hour,
                starts: vec![],
                currencies: Default::default(),
            },
            time_zone: Tz::UTC,
        }
    }

    #[test]
    fn a_digest_shows_totals_change_products_refunds_and_subscriptions() {
        let due = due("day");
        let m = message(&report(&due), &due, None, Tz::UTC);
        let e = &m.embeds[0];
        assert_eq!(e.title, "Daily digest: 7 Dec");
        let text: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{}={}", f.name, f.value))
            .collect();
        let text = text.join("\n");
        for shown in [
            "Gross: **$90.00**",
            "Refunds: 1 ($30.00)",
            "Net vs 6 Dec: +20.0 % (was $50.00)",
            "2 new · 1 cancelled · 9 active now",
            "1. Palette Pack — 3 orders, 3 units",
        ] {
            assert!(text.contains(shown), "{shown:?} in {text}");
        }
        assert_eq!(m.enforce_nonce, Some(true));
    }

    #[test]
    fn a_late_digest_says_so_in_its_title_and_when_it_was_due() {
        let due = due("week");
        let m = message(&report(&due), &due, Some(due.due_at), Tz::UTC);
        let e = &m.embeds[0];
        assert_eq!(e.title, "Weekly digest: 30 Nov–6 Dec (late)");
        let footer = &e.footer.as_ref().unwrap().text;
        assert!(
            footer.starts_with("Posted late: the bot was offline at 7 Dec 2026 09:00 (UTC)"),
            "{footer}"
        );
    }

    #[test]
    fn the_nonce_is_short_stable_and_differs_per_period() {
        let a = nonce("day:7:2026-12-07");
        assert_eq!(a, nonce("day:7:2026-12-07"));
        assert_ne!(a, nonce("day:7:2026-12-08"));
        assert!(a.len() <= 25);
    }
}
