//! Discord's message JSON, as the bot sends it, with the platform's size limits applied.

use chrono::DateTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

pub const CONTENT_MAX: usize = 2000;
pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELDS_MAX: usize = 25;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FOOTER_MAX: usize = 2048;
pub const EMBED_TOTAL_MAX: usize = 6000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    pub embeds: Vec<Embed>,
    /// Never ping anyone: template text can contain buyer-supplied names like "@everyone".
    pub allowed_mentions: AllowedMentions,
    /// Discord drops a second message with the same nonce (within minutes) when enforced, so a
    /// retry after a lost response does not post twice. Not supported by webhook URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce_nonce: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowedMentions {
    pub parse: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embed {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub color: u32,
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<Footer>,
    /// RFC 3339; Discord shows it in each reader's time zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footer {
    pub text: String,
}

/// Cuts `text` to at most `max` characters, ending with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

impl Embed {
    pub(crate) fn total_chars(&self) -> usize {
        let n = |s: &str| s.chars().count();
        n(&self.title)
            + self.description.as_deref().map_or(0, n)
            + self.footer.as_ref().map_or(0, |f| n(&f.text))
            + self
                .fields
                .iter()
                .map(|f| n(&f.name) + n(&f.value))
                .sum::<usize>()
    }

    /// Truncates every part to Discord's limits, so a long product list shortens a notice instead
    /// of making Discord refuse it.
    pub fn fit(&mut self) {
        self.title = truncate(&self.title, TITLE_MAX);
        self.description = self
            .description
            .as_deref()
            .map(|d| truncate(d, DESCRIPTION_MAX));
        self.fields.truncate(FIELDS_MAX);
        for f in &mut self.fields {
            f.name = truncate(&f.name, FIELD_NAME_MAX);
            // Discord refuses empty values.
            f.value = if f.value.trim().is_empty() {
                "—".to_owned()
            } else {
                truncate(&f.value, FIELD_VALUE_MAX)
            };
        }
        if let Some(footer) = &mut self.footer {
            footer.text = truncate(&footer.text, FOOTER_MAX);
        }
        while self.total_chars() > EMBED_TOTAL_MAX {
            let excess = self.total_chars() - EMBED_TOTAL_MAX;
            let Some(longest) = self
                .fields
                .iter_mut()
                .max_by_key(|f| f.value.chars().count())
            else {
                break;
            };
            let len = longest.value.chars().count();
            if len <= 16 {
                self.fields.pop();
                continue;
            }
            longest.value = truncate(&longest.value, len.saturating_sub(excess).max(16));
        }
    }
}

impl Message {
    /// A message of `content` and `embeds` that pings nobody (and, fitted, is within Discord's
    /// limits): the one shape every notice, summary, digest and alert starts from.
    pub fn fitted(content: Option<String>, embeds: Vec<Embed>) -> Self {
        let mut message = Self {
            content,
            embeds,
            allowed_mentions: AllowedMentions::default(),
            nonce: None,
            enforce_nonce: None,
        };
        message.fit();
        message
    }

    pub fn fit(&mut self) {
        self.content = self.content.as_deref().map(|c| truncate(c, CONTENT_MAX));
        for e in &mut self.embeds {
            e.fit();
        }
    }

    /// A readable plain-text rendering, for preview mode and logs: text reads as it does in
    /// Discord, so escaped store text shows as the store wrote it, without backslashes, and
    /// Discord's `<t:…>` dates read as dates in the seller's time zone `tz`.
    pub fn to_text(&self, tz: Tz) -> String {
        let shown = |s: &str| super::escape::displayed(&local_dates(s, tz));
        let mut out = String::new();
        if let Some(content) = &self.content {
            out.push_str(&shown(content));
            out.push('\n');
        }
        for e in &self.embeds {
            out.push_str(&format!("┃ {}\n", shown(&e.title)));
            if let Some(d) = &e.description {
                out.push_str(&format!("┃ {}\n", shown(d)));
            }
            for f in &e.fields {
                let value = shown(&f.value).replace('\n', "\n┃     ");
                out.push_str(&format!("┃   {}: {}\n", f.name, value));
            }
            if let Some(footer) = &e.footer {
                out.push_str(&format!("┃ {}\n", footer.text));
            }
        }
        out
    }
}

/// Discord's date markup (`<t:1700000000:f>`) as the date Discord would show a reader in `tz`:
/// "14 November 2023 23:13 CET". Left alone where Discord shows it as written: escaped (`\<t:`)
/// or inside a code span.
fn local_dates(s: &str, tz: Tz) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let escaped: String = rest.chars().take(2).collect();
            out.push_str(&escaped);
            rest = &rest[escaped.len()..];
            continue;
        }
        if c == '`' {
            in_code = !in_code;
        }
        if !in_code && rest.starts_with("<t:") {
            if let Some((shown, len)) = date_markup(rest, tz) {
                out.push_str(&shown);
                rest = &rest[len..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// `<t:SECONDS>` or `<t:SECONDS:STYLE>` at the start of `s`: the date shown, and the markup's length.
fn date_markup(s: &str, tz: Tz) -> Option<(String, usize)> {
    let end = s.find('>')?;
    let inner = &s[3..end];
    let (seconds, style) = inner.split_once(':').unwrap_or((inner, "f"));
    let at = DateTime::from_timestamp(seconds.parse().ok()?, 0)?.with_timezone(&tz);
    let format = match style {
        "t" => "%H:%M %Z",
        "T" => "%H:%M:%S %Z",
        "d" => "%Y-%m-%d",
        "D" => "%-d %B %Y",
        "F" => "%A %-d %B %Y %H:%M %Z",
        "f" | "R" => "%-d %B %Y %H:%M %Z",
        _ => return None,
    };
    Some((at.format(format).to_string(), end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discord_dates_read_as_local_dates_in_the_terminal() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        assert_eq!(
            local_dates("Refund date: <t:1700000000:f> · <t:1700000000:d>", paris),
            "Refund date: 14 November 2023 23:13 CET · 2023-11-14"
        );
        assert_eq!(
            local_dates("<t:1700000000>", Tz::UTC),
            "14 November 2023 22:13 UTC"
        );
        // Shown as written in Discord, so as written here too.
        assert_eq!(
            local_dates(r"\<t:1700000000:f>", paris),
            r"\<t:1700000000:f>"
        );
        assert_eq!(local_dates("`<t:1:f>`", paris), "`<t:1:f>`");
        assert_eq!(local_dates("<t:soon:f> <t:1", paris), "<t:soon:f> <t:1");
    }

    fn field(value: String) -> Field {
        Field {
            name: "n".into(),
            value,
            inline: false,
        }
    }

    #[test]
    fn long_parts_are_cut_with_an_ellipsis() {
        let mut e = Embed {
            title: "t".repeat(300),
            fields: (0..30).map(|_| field("v".repeat(2000))).collect(),
            ..Embed::default()
        };
        e.fit();
        assert_eq!(e.title.chars().count(), TITLE_MAX);
        assert!(e.title.ends_with('…'));
        assert!(e.fields.len() <= FIELDS_MAX);
        assert!(e
            .fields
            .iter()
            .all(|f| f.value.chars().count() <= FIELD_VALUE_MAX));
        assert!(e.total_chars() <= EMBED_TOTAL_MAX, "{}", e.total_chars());
    }

    #[test]
    fn empty_field_values_are_replaced() {
        let mut e = Embed {
            fields: vec![field(" ".into())],
            ..Embed::default()
        };
        e.fit();
        assert_eq!(e.fields[0].value, "—");
    }

    #[test]
    fn content_is_cut_to_2000_characters() {
        let mut m = Message {
            content: Some("é".repeat(2500)),
            embeds: vec![],
            allowed_mentions: AllowedMentions::default(),
            nonce: None,
            enforce_nonce: None,
        };
        m.fit();
        assert_eq!(m.content.unwrap().chars().count(), CONTENT_MAX);
    }
}
