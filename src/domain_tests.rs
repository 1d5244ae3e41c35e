//! Unit tests of `domain`, kept beside it so the module itself stays short.

use super::*;

#[test]
fn money_formats_per_currency() {
    assert_eq!(Money::new(1250, "usd").to_string(), "$12.50");
    assert_eq!(Money::new(99, "EUR").to_string(), "€0.99");
    assert_eq!(Money::new(1200, "JPY").to_string(), "¥1200");
    assert_eq!(Money::new(12500, "KWD").to_string(), "12.500 KWD");
    assert_eq!(Money::new(-505, "SEK").to_string(), "-5.05 SEK");
}

#[test]
fn decimals_convert_exactly() {
    assert_eq!(decimal_to_minor("9.99", "USD"), Some(999));
    assert_eq!(decimal_to_minor("2.00", "USD"), Some(200));
    assert_eq!(decimal_to_minor("2", "USD"), Some(200));
    assert_eq!(decimal_to_minor("0.1", "USD"), Some(10));
    assert_eq!(decimal_to_minor("1200", "JPY"), Some(1200));
    assert_eq!(decimal_to_minor("1200.0", "JPY"), Some(1200));
    assert_eq!(
        decimal_to_minor("1.005", "USD"),
        None,
        "sub-cent precision is refused"
    );
    assert_eq!(decimal_to_minor("1.234", "KWD"), Some(1234));
    assert_eq!(decimal_to_minor("abc", "USD"), None);
    assert_eq!(decimal_to_minor("99999999999999999999", "USD"), None);
}

#[test]
fn license_keys_and_checkout_answers_never_show_in_debug_output() {
    let sale = Sale {
        items: vec![Item {
            name: "Pack".into(),
            license_key: Some(LicenseKey("AAAA-BBBB".into())),
            ..Item::default()
        }],
        checkout_answers: Some(CheckoutAnswers(
            serde_json::json!([{"question": "Name?", "answer": "Ada"}]),
        )),
        ..Sale::default()
    };
    let debug = format!("{sale:?}");
    assert!(!debug.contains("AAAA") && !debug.contains("Ada"), "{debug}");
    let stored = serde_json::to_string(&sale).unwrap();
    assert!(stored.contains("AAAA-BBBB"), "kept in the stored data");
    assert_eq!(serde_json::from_str::<Sale>(&stored).unwrap(), sale);
}

#[test]
fn email_is_masked() {
    let c = Customer {
        name: None,
        email: Some("jonathan@example.com".into()),
    };
    assert_eq!(c.masked_email().as_deref(), Some("jo***@example.com"));
    assert_eq!(c.display_name().as_deref(), Some("jo***@example.com"));
}

#[test]
fn webhook_urls_parse_and_hide_their_token() {
    let w = DiscordWebhook::parse("https://discord.com/api/webhooks/123/abc-DEF_9").unwrap();
    assert_eq!(w.id, 123);
    assert_eq!(w.token, "abc-DEF_9");
    assert!(!format!("{w:?}").contains("abc"));
    assert_eq!(
        w.execute_url(Some("http://127.0.0.1:9")),
        "http://127.0.0.1:9/api/v10/webhooks/123/abc-DEF_9?wait=true"
    );
    assert!(DiscordWebhook::parse("https://discordapp.com/api/v9/webhooks/1/t").is_some());
    assert!(DiscordWebhook::parse("https://evil.example/api/webhooks/1/t").is_none());
    assert!(DiscordWebhook::parse("http://discord.com/api/webhooks/1/t").is_none());
    assert!(DiscordWebhook::parse("https://discord.com/api/webhooks/x/t").is_none());
}
