use super::*;
use crate::config::{ProductRoles, SubscriptionRoles};
use crate::domain::{CheckoutAnswers, Item, Money, Risk};

fn config() -> RolesConfig {
    RolesConfig {
        products: vec![ProductRoles {
            product: "fR3c".into(),
            roles: vec![11, 12],
            secret_key: None,
        }],
        subscriptions: vec![SubscriptionRoles {
            plan: Some("Gold".into()),
            product: None,
            roles: vec![21],
        }],
        checkout_question: Some("Discord username".into()),
        ..RolesConfig::default()
    }
}

fn refund(amount: i64, original: Option<i64>) -> Refund {
    Refund {
        amount: Money::new(amount, "EUR"),
        sale_external_id: "T1".into(),
        original_total: original.map(|o| Money::new(o, "EUR")),
        ..Refund::default()
    }
}

#[test]
fn whole_refunds_and_chargebacks_end_a_purchase_partial_ones_do_not_by_default() {
    assert!(ends_purchase(&refund(1000, Some(1000)), true));
    assert!(
        ends_purchase(&refund(1000, None), true),
        "extent unknown: whole"
    );
    assert!(!ends_purchase(&refund(300, Some(1000)), true));
    assert!(ends_purchase(&refund(300, Some(1000)), false));
    let mut chargeback = refund(300, Some(1000));
    chargeback.risk = Some(Risk::Chargeback);
    assert!(ends_purchase(&chargeback, true));
    let mut partial = refund(1000, None);
    partial.scope = RefundScope::Partial;
    assert!(!ends_purchase(&partial, true));
}

#[test]
fn a_sale_gives_the_roles_of_its_configured_products() {
    let sale = Sale {
        items: vec![Item {
            product_key: Some("fR3c".into()),
            name: "Field Recording Pack".into(),
            ..Item::default()
        }],
        ..Sale::default()
    };
    assert_eq!(roles_for_sale(&config(), &sale), vec![11, 12]);
    let other = Sale {
        items: vec![Item {
            product_key: Some("zzz".into()),
            ..Item::default()
        }],
        ..Sale::default()
    };
    assert!(roles_for_sale(&config(), &other).is_empty());
    let sub = Subscription {
        plan: Some("gold ".into()),
        ..Subscription::default()
    };
    assert_eq!(roles_for_subscription(&config(), &sub), vec![21]);
}

#[test]
fn a_role_another_live_purchase_gives_is_kept() {
    assert_eq!(roles_to_remove(&[11, 12], &[vec![12, 30]]), vec![11]);
    assert_eq!(roles_to_remove(&[11], &[]), vec![11]);
}

#[test]
fn the_checkout_answer_is_found_by_its_label() {
    let sale = Sale {
        checkout_answers: Some(CheckoutAnswers(serde_json::json!([
            {"question": "Which DAW do you use?", "answer": "Reaper"},
            {"question": "Discord  username:", "answer": " @Lena.Sounds "},
        ]))),
        ..Sale::default()
    };
    let name = discord_name(&sale, "discord username").unwrap();
    assert_eq!(
        parse_discord_name(&name),
        Some(DiscordName::Name("lena.sounds".into()))
    );
    assert_eq!(
        parse_discord_name("<@!123456789012345678>"),
        Some(DiscordName::Id(123_456_789_012_345_678))
    );
    assert_eq!(parse_discord_name("  "), None);
}

#[test]
fn destinations_round_trip() {
    let m = MemberRole {
        guild: 1,
        user: 2,
        role: 3,
    };
    assert_eq!(MemberRole::parse(&m.to_stored()), Some(m));
    assert_eq!(MemberRole::parse("channel:5"), None);
}

#[test]
fn claims_are_limited_per_member() {
    let limiter = ClaimLimiter::new(2, Duration::from_secs(60));
    let t0 = Instant::now();
    assert!(limiter.attempt(1, t0).is_ok());
    assert!(limiter.attempt(1, t0).is_ok());
    assert!(limiter.attempt(1, t0).is_err());
    assert!(
        limiter.attempt(2, t0).is_ok(),
        "another member is not held up"
    );
    assert!(limiter.attempt(1, t0 + Duration::from_secs(61)).is_ok());
}
