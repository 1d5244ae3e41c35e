//! Unit tests of `stats`, kept beside it so the module itself stays short.

use chrono::{DateTime, Utc};

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn ranges_are_read_from_the_coarsest_exact_buckets() {
    let ms = |s: &str| millis(at(s));
    let p = plan(ms("2025-11-14T10:17:00Z"), ms("2026-02-03T05:00:00Z"));
    let show: Vec<(Option<Grain>, String, String)> = p
        .iter()
        .map(|(g, (a, b))| {
            let f = |x: &i64| {
                DateTime::<Utc>::from_timestamp_millis(*x)
                    .unwrap()
                    .format("%m-%d %H:%M")
                    .to_string()
            };
            (*g, f(a), f(b))
        })
        .collect();
    assert_eq!(
        show,
        vec![
            (None, "11-14 10:17".into(), "11-14 11:00".into()),
            (
                Some(Grain::Hour),
                "11-14 11:00".into(),
                "11-15 00:00".into()
            ),
            (Some(Grain::Day), "11-15 00:00".into(), "12-01 00:00".into()),
            (
                Some(Grain::Month),
                "12-01 00:00".into(),
                "02-01 00:00".into()
            ),
            (Some(Grain::Day), "02-01 00:00".into(), "02-03 00:00".into()),
            (
                Some(Grain::Hour),
                "02-03 00:00".into(),
                "02-03 05:00".into()
            ),
        ]
    );
    let short = plan(ms("2026-01-01T10:05:00Z"), ms("2026-01-01T10:09:00Z"));
    assert_eq!(
        short,
        vec![(
            None,
            (ms("2026-01-01T10:05:00Z"), ms("2026-01-01T10:09:00Z"))
        )]
    );
}

#[test]
fn figures_never_mix_currencies() {
    let f = merge(vec![
        ("USD".into(), 2, 3000, 100, 0, 0),
        ("EUR".into(), 1, 500, 0, 0, 0),
        ("USD".into(), 0, 0, 0, 1, 1000),
    ]);
    assert_eq!(f.len(), 2);
    let usd = f.iter().find(|f| f.currency == "USD").unwrap();
    assert_eq!(
        (usd.net(), usd.average_order(), usd.refund_rate()),
        (2000, Some(1500), Some(50.0))
    );
}
