//! Unit tests of `rest`, kept beside it so the module itself stays short.

use super::*;

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, v.parse().unwrap());
    }
    h
}

#[test]
fn success_reads_the_message_id_and_pacing() {
    let ok = interpret(
        StatusCode::OK,
        &headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "1.5"),
        ]),
        br#"{"id":"123","content":""}"#,
    )
    .unwrap();
    assert_eq!(ok.message_id.as_deref(), Some("123"));
    assert_eq!(ok.pace, Some(Duration::from_millis(1500)));
}

#[test]
fn rate_limits_carry_retry_after_from_body_or_header() {
    let e = interpret(
        StatusCode::TOO_MANY_REQUESTS,
        &HeaderMap::new(),
        br#"{"retry_after": 2.25}"#,
    );
    assert!(matches!(e, Err(PostError::RateLimited(d)) if d == Duration::from_millis(2250)));
    let e = interpret(
        StatusCode::TOO_MANY_REQUESTS,
        &headers(&[("retry-after", "3")]),
        b"",
    );
    assert!(matches!(e, Err(PostError::RateLimited(d)) if d == Duration::from_secs(3)));
}

#[test]
fn permanent_and_transient_failures_differ() {
    let e = interpret(
        StatusCode::FORBIDDEN,
        &HeaderMap::new(),
        br#"{"code":50013,"message":"Missing Permissions"}"#,
    )
    .unwrap_err();
    assert!(!e.is_transient());
    assert!(matches!(e, PostError::Refused { code: 50013, .. }));
    assert!(
        interpret(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>")
            .unwrap_err()
            .is_transient()
    );
    assert!(interpret(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b"")
        .unwrap_err()
        .is_transient());
}

#[test]
fn a_lost_post_is_recognised_only_by_its_own_webhook_and_reference() {
    let ours = serde_json::json!({
        "id": "1", "webhook_id": "555",
        "embeds": [{ "footer": { "text": "Payhip · ref 0a1b2c3d4e" } }]
    });
    assert!(carries(&ours, 555, "0a1b2c3d4e"));
    assert!(
        !carries(&ours, 556, "0a1b2c3d4e"),
        "another webhook's message"
    );
    assert!(!carries(&ours, 555, "ffffffffff"), "another notice");
    let typed = serde_json::json!({ "id": "2", "content": "ref 0a1b2c3d4e" });
    assert!(!carries(&typed, 555, "0a1b2c3d4e"), "a person quoting it");
}

#[test]
fn message_ids_are_made_from_discord_epoch_times() {
    // Discord's documented example: 175928847299117063 was created at 1462015105796.
    assert_eq!(
        snowflake_at(1_462_015_105_796),
        175_928_847_299_117_063 >> 22 << 22
    );
    assert_eq!(snowflake_at(0), 0);
}
