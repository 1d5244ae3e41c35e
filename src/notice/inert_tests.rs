//! Hostile store text through every notice part: whatever a buyer or a forged test payload puts
//! in a name, Discord shows it as written, with no link, style or mention.

use chrono::DateTime;

use super::embed::{notice, Style};
use super::message::Message;
use crate::domain::{
    Coupon, Customer, Detail, Event, EventKind, Item, Money, Refund, Sale, Subscription,
};

const LINK: &str = "[click](https://evil.example) @everyone **bold**";

fn hostile(kind: EventKind, detail: Detail) -> Event {
    Event {
        provider: "payhip".into(),
        event_type: "paid <@&1>".into(),
        kind,
        idempotency_key: "k".into(),
        external_id: "TX`1`[x](https://evil.example)".into(),
        occurred_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        test: false,
        test_signed: false,
        customer: Customer {
            name: Some(format!("# {LINK}\n> quoted ||spoiler||")),
            email: Some("<@1>@evil.example".into()),
        },
        url: Some("https://evil.example/x)[y](https://evil.example".into()),
        comment: Some(format!("- {LINK}")),
        detail,
    }
}

fn item() -> Item {
    Item {
        product_id: None,
        name: LINK.into(),
        quantity: 1,
        variant: Some("~~v~~ <t:0:R>".into()),
        on_sale: false,
        amount_minor: None,
        ..Item::default()
    }
}

fn sale() -> Event {
    hostile(
        EventKind::Sale,
        Detail::Sale(Sale {
            total: Money::new(2999, "X**Y"),
            fees_minor: Some(10),
            items: vec![item()],
            coupons: vec![Coupon {
                code: "A`B".into(),
                percentage: Some("_20_".into()),
                amount_minor: Some(5),
            }],
            payment_method: Some("### PayPal".into()),
            vat_applied: None,
            transaction_id: Some("ch_`x`".into()),
            vat_country: Some(LINK.into()),
            order_id: Some("O`1".into()),
            ..Sale::default()
        }),
    )
}

fn refund() -> Event {
    hostile(
        EventKind::Refund,
        Detail::Refund(Refund {
            amount: Money::new(100, "USD"),
            sale_external_id: "S`1".into(),
            original_total: None,
            purchased_at: None,
            items: vec![item()],
            payment_method: Some("-# PayPal".into()),
            vat_applied: None,
            reason: Some(LINK.into()),
            order_id: Some("O`1".into()),
            ..Refund::default()
        }),
    )
}

fn subscription() -> Event {
    hostile(
        EventKind::SubscriptionStarted,
        Detail::Subscription(Subscription {
            subscription_id: "SUB`1".into(),
            status: Some(LINK.into()),
            plan: Some("1. Monthly".into()),
            product: Some(LINK.into()),
            started_at: None,
            cancelled_at: None,
            amount: None,
            ..Subscription::default()
        }),
    )
}

/// Every template placeholder at once, each at the start of a line.
const TEMPLATE: &str = "%id%\n%price%\n%user%\n%paymentType%\n%transactionId%\n%comment%\n%url%\n%product%\n%currency%\n%event%";

/// Markdown Discord would still act on in `text`, outside code spans: an unescaped special
/// character, a bare link, a pinging `@everyone`, or a line starting a heading, list or quote.
fn live_markdown(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let start = line.trim_start();
        if start.starts_with(['#', '>', '-', '+']) || start.starts_with("1. ") {
            found.push(format!("line start: {line}"));
        }
    }
    let mut in_code = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '`' => in_code = !in_code,
            _ if in_code => {}
            '\\' => {
                chars.next();
            }
            '*' | '_' | '~' | '|' | '[' | ']' | '<' => found.push(format!("{c} at {i}")),
            _ if text[i..].starts_with("://") => found.push(format!("link at {i}")),
            _ if text[i..].starts_with("@everyone") => found.push(format!("@everyone at {i}")),
            _ => {}
        }
    }
    found
}

fn render(event: &Event) -> Message {
    notice(
        event,
        &Style {
            color: 0,
            provider_label: "Payhip",
            show_customer: true,
            template: Some(TEMPLATE),
        },
    )
    .unwrap_or_else(|| panic!("{:?} has a notice", event.kind))
}

#[test]
fn no_store_text_renders_as_markdown_in_any_notice() {
    for event in [sale(), refund(), subscription()] {
        let m = render(&event);
        let content = m.content.clone().unwrap_or_default();
        assert!(
            live_markdown(&content).is_empty(),
            "{:?} template: {:?}\n{content}",
            event.kind,
            live_markdown(&content)
        );
        // Dates are the bot's own `<t:…:f>` timestamps, meant to render.
        let dates = ["Purchased", "Refund date", "Started", "Canceled"];
        for f in m.embeds[0]
            .fields
            .iter()
            .filter(|f| !dates.contains(&f.name.as_str()))
        {
            let found = live_markdown(&f.value);
            assert!(
                found.is_empty(),
                "{:?} {}: {found:?}\n{}",
                event.kind,
                f.name,
                f.value
            );
        }
        assert_eq!(
            m.embeds[0].url, None,
            "a link that could break out is dropped"
        );
        assert_eq!(
            serde_json::to_value(&m).unwrap_or_default()["allowed_mentions"],
            serde_json::json!({ "parse": [] }),
            "no mention can ping"
        );
    }
}

#[test]
fn hostile_names_read_exactly_as_written_in_the_preview() {
    let text = render(&sale()).to_text(chrono_tz::Tz::UTC);
    assert!(
        text.contains(&format!("• {LINK} (~~v~~ <t:0:R>) ×1")),
        "{text}"
    );
    assert!(text.contains("Payment: ### PayPal"), "{text}");
    assert!(text.contains("Coupon: `A\u{02CB}B` (_20_%"), "{text}");
    assert!(
        text.contains("Customer: # [click](https://evil.example) @everyone **bold** > quoted"),
        "{text}"
    );
}

#[test]
fn a_plain_product_link_still_links_the_title() {
    let mut event = subscription();
    event.url = Some("https://payhip.com/b/AbC1".into());
    assert_eq!(
        render(&event).embeds[0].url.as_deref(),
        Some("https://payhip.com/b/AbC1")
    );
}
