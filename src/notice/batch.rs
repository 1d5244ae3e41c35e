//! Several notices for one place as one message. Discord lets a bot post about five messages per
//! five seconds in a channel, so a launch that sells a thousand copies in a minute would take a
//! quarter of an hour at one message per sale. Packed ten embeds to a message, the same channel
//! keeps up with ten times the sales; past a longer backlog a one-line-per-minute summary lists
//! the sales instead of showing each one. Pure: the outbox decides when, this decides how.

use chrono::{DateTime, Utc};

use super::escape;
use super::message::{
    AllowedMentions, Embed, Message, CONTENT_MAX, DESCRIPTION_MAX, EMBED_TOTAL_MAX,
};
use crate::domain::{Money, NoticeKind};

/// Embeds Discord takes in one message.
pub const EMBEDS_MAX: usize = 10;

/// How many of `messages`, from the front, go in one message: at least one (a notice alone
/// always fits, [`Message::fit`] saw to it), then as many as keep to ten embeds, 6,000
/// characters of embeds in all, and 2,000 characters of text.
pub fn fits(messages: &[Message]) -> usize {
    let (mut embeds, mut chars, mut text) = (0, 0, 0);
    for (n, m) in messages.iter().enumerate() {
        let m_chars: usize = m.embeds.iter().map(Embed::total_chars).sum();
        // Joined texts are separated by a line break.
        let m_text = m.content.as_deref().map_or(0, |c| c.chars().count() + 1);
        let over = embeds + m.embeds.len() > EMBEDS_MAX
            || chars + m_chars > EMBED_TOTAL_MAX
            || text + m_text > CONTENT_MAX + 1;
        if n > 0 && over {
            return n;
        }
        embeds += m.embeds.len();
        chars += m_chars;
        text += m_text;
    }
    messages.len()
}

/// One message holding every notice in `messages`, oldest first: their embeds in order, their
/// texts (from a seller's template) one per line. The caller keeps to [`fits`].
pub fn combine(messages: Vec<Message>) -> Message {
    let mut out = Message {
        content: None,
        embeds: Vec::new(),
        allowed_mentions: AllowedMentions::default(),
        nonce: None,
        enforce_nonce: None,
    };
    let mut texts = Vec::new();
    for m in messages {
        texts.extend(m.content);
        out.embeds.extend(m.embeds);
    }
    if !texts.is_empty() {
        out.content = Some(texts.join("\n"));
    }
    out
}

/// One notice as a line of a summary.
#[derive(Debug, Clone)]
pub struct Summarized {
    pub kind: NoticeKind,
    /// The store's id for the sale (or refund, subscription), so a seller can look it up.
    pub id: String,
    pub amount: Option<Money>,
    pub test: bool,
}

/// Room kept in a summary's description for its totals line(s).
const TOTALS_ROOM: usize = 600;

/// How many of `items`, from the front, one summary lists: every id must show, within the
/// description's 4,096 characters. At least one.
pub fn summary_fits(items: &[Summarized]) -> usize {
    let mut used = 0;
    for (n, item) in items.iter().enumerate() {
        used += id_text(item).chars().count() + 2;
        if n > 0 && used > DESCRIPTION_MAX - TOTALS_ROOM {
            return n;
        }
    }
    items.len()
}

/// The summary of `items`, notices that fell due while the place was far behind: how many of each
/// kind, the money per currency (unless `show_amounts` is off, as on a public feed), the minute
/// they are from and every id. E.g. "+37 sales in one minute · €1,234.00".
pub fn summary(
    items: &[Summarized],
    minute: DateTime<Utc>,
    show_amounts: bool,
    color: u32,
) -> Message {
    let mut counts: Vec<(NoticeKind, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(k, _)| *k == item.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((item.kind, 1)),
        }
    }
    let said: Vec<String> = counts
        .iter()
        .map(|(kind, n)| format!("+{n} {}", kind_words(*kind, *n)))
        .collect();
    let mut title = format!("{} in one minute", said.join(", "));
    let mut lines = Vec::new();
    if show_amounts {
        for (kind, _) in &counts {
            let totals = totals(items.iter().filter(|i| i.kind == *kind && !i.test));
            if totals.is_empty() {
                continue;
            }
            if counts.len() == 1 {
                title = format!("{title} · {}", totals.join(" · "));
            } else {
                lines.push(format!("{}: {}", kind_words(*kind, 2), totals.join(" · ")));
            }
        }
    }
    let from = minute.timestamp();
    lines.push(format!(
        "<t:{from}:t> to <t:{}:t>, too many at once to show one by one.",
        from + 60
    ));
    let ids: Vec<String> = items.iter().map(id_text).collect();
    lines.push(ids.join(", "));
    Message::fitted(
        None,
        vec![Embed {
            title,
            description: Some(lines.join("\n")),
            color,
            ..Embed::default()
        }],
    )
}

fn id_text(item: &Summarized) -> String {
    let test = if item.test { " (test)" } else { "" };
    format!("`{}`{test}", escape::code(&item.id))
}

fn kind_words(kind: NoticeKind, n: usize) -> &'static str {
    match (kind, n) {
        (NoticeKind::Sale, 1) => "sale",
        (NoticeKind::Sale, _) => "sales",
        (NoticeKind::Refund, 1) => "refund",
        (NoticeKind::Refund, _) => "refunds",
        (NoticeKind::Subscription, 1) => "subscription update",
        (NoticeKind::Subscription, _) => "subscription updates",
    }
}

/// The sum per currency, in the order the currencies first appear; virtual currency apart.
fn totals<'a>(items: impl Iterator<Item = &'a Summarized>) -> Vec<String> {
    let mut sums: Vec<Money> = Vec::new();
    for money in items.filter_map(|i| i.amount.as_ref()) {
        match sums
            .iter_mut()
            .find(|m| m.currency == money.currency && m.virtual_currency == money.virtual_currency)
        {
            Some(sum) => sum.minor = sum.minor.saturating_add(money.minor),
            None => sums.push(money.clone()),
        }
    }
    sums.iter().map(|m| escape::text(&m.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::message::{Field, Footer};

    fn notice(title: &str, field_chars: usize, content: Option<&str>) -> Message {
        Message {
            content: content.map(str::to_owned),
            embeds: vec![Embed {
                title: title.to_owned(),
                fields: vec![Field {
                    name: "Products".into(),
                    value: "x".repeat(field_chars),
                    inline: false,
                }],
                footer: Some(Footer {
                    text: "Payhip".into(),
                }),
                ..Embed::default()
            }],
            allowed_mentions: AllowedMentions::default(),
            nonce: None,
            enforce_nonce: None,
        }
    }

    #[test]
    fn ten_notices_share_a_message_and_the_eleventh_starts_the_next() {
        let many: Vec<Message> = (0..25)
            .map(|i| notice(&format!("#{i}"), 20, None))
            .collect();
        assert_eq!(fits(&many), 10);
        let one = combine(many[..10].to_vec());
        let titles: Vec<&str> = one.embeds.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(
            titles,
            ["#0", "#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9"]
        );
        assert_eq!(fits(&many[20..]), 5);
    }

    #[test]
    fn long_notices_are_packed_within_six_thousand_characters() {
        let long: Vec<Message> = (0..10)
            .map(|i| notice(&format!("#{i}"), 1000, None))
            .collect();
        let n = fits(&long);
        assert_eq!(n, 5, "each is ~1,010 characters");
        let packed = combine(long[..n].to_vec());
        let total: usize = packed.embeds.iter().map(Embed::total_chars).sum();
        assert!(total <= EMBED_TOTAL_MAX, "{total}");
        // A notice that is alone over nothing still goes out on its own.
        assert_eq!(fits(&long[..1]), 1);
    }

    #[test]
    fn template_texts_are_joined_one_per_line_within_the_text_limit() {
        let texts: Vec<Message> = (0..4)
            .map(|i| {
                notice(
                    &format!("#{i}"),
                    5,
                    Some(&format!("{i}{}", "t".repeat(700))),
                )
            })
            .collect();
        assert_eq!(fits(&texts), 2, "three texts of 701 characters pass 2,000");
        let packed = combine(texts[..2].to_vec());
        let content = packed.content.unwrap();
        assert!(content.starts_with('0') && content.contains("\n1"));
        assert!(content.chars().count() <= CONTENT_MAX);
    }

    fn sale(id: &str, minor: i64, currency: &str) -> Summarized {
        Summarized {
            kind: NoticeKind::Sale,
            id: id.into(),
            amount: Some(Money::new(minor, currency)),
            test: false,
        }
    }

    #[test]
    fn a_summary_counts_the_sales_adds_their_money_and_lists_every_id() {
        let mut items: Vec<Summarized> = (0..37)
            .map(|i| sale(&format!("T{i}"), 3337, "EUR"))
            .collect();
        items.push(sale("U1", 500, "USD"));
        let at = DateTime::from_timestamp(1_700_000_040, 0).unwrap();
        let m = summary(&items, at, true, 7);
        let e = &m.embeds[0];
        assert_eq!(e.title, "+38 sales in one minute · €1234.69 · $5.00");
        let d = e.description.as_deref().unwrap();
        assert!(d.contains("<t:1700000040:t>"), "{d}");
        for i in 0..37 {
            assert!(d.contains(&format!("`T{i}`")), "T{i} missing");
        }
        assert!(d.contains("`U1`"));
    }

    #[test]
    fn a_public_summary_shows_counts_and_ids_but_no_money() {
        let items = vec![sale("A", 1000, "EUR"), sale("B", 2000, "EUR")];
        let at = DateTime::from_timestamp(1_700_000_040, 0).unwrap();
        let m = summary(&items, at, false, 0);
        let text = serde_json::to_string(&m).unwrap();
        assert!(!text.contains("€") && !text.contains("30"), "{text}");
        assert!(m.embeds[0].title.starts_with("+2 sales"));
    }

    #[test]
    fn mixed_kinds_are_counted_apart_and_tests_add_no_money() {
        let mut refund = sale("R1", 1000, "EUR");
        refund.kind = NoticeKind::Refund;
        let mut test = sale("X", 99_900, "EUR");
        test.test = true;
        let at = DateTime::from_timestamp(1_700_000_040, 0).unwrap();
        let m = summary(&[sale("A", 1000, "EUR"), refund, test], at, true, 0);
        let e = &m.embeds[0];
        assert_eq!(e.title, "+2 sales, +1 refund in one minute");
        let d = e.description.as_deref().unwrap();
        assert!(
            d.contains("sales: €10.00") && d.contains("refunds: €10.00"),
            "{d}"
        );
        assert!(d.contains("`X` (test)") && !d.contains("999"), "{d}");
    }

    #[test]
    fn a_summary_that_would_be_too_long_is_cut_between_ids_never_inside_one() {
        let items: Vec<Summarized> = (0..1000)
            .map(|i| sale(&format!("transaction-{i:06}"), 100, "EUR"))
            .collect();
        let n = summary_fits(&items);
        assert!(n > 100 && n < 1000, "{n}");
        let m = summary(&items[..n], Utc::now(), true, 0);
        let d = m.embeds[0].description.as_deref().unwrap();
        assert!(!d.ends_with('…'), "nothing was cut");
        assert!(d.contains(&format!("`transaction-{:06}`", n - 1)));
    }
}
