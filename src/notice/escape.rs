//! Store-supplied text made inert before Discord renders it.
//!
//! Product, variant and buyer names, coupon codes, ids and payment labels come from buyers and
//! store admins, and from anyone at all when an unsigned test payload is announced. Discord
//! renders markdown in embed fields and message text, so `[text](https://evil)` would become a
//! disguised link, `**x**` or `# x` would restyle a notice, and `<@id>` or `@everyone` would look
//! like a mention. Every rendering path (notice embeds, templates, `/sales` and `/stats`, and so
//! webhook URLs and previews too) passes store text through here, at render time: the database
//! keeps exactly what the store sent.
//!
//! Hand-written: serenity's `MessageBuilder::push_safe` escapes only `*`, `_` and backticks, and
//! leaves masked links, headings, quotes, spoilers and `<…>` mentions alone.

/// Characters that start or end inline markdown anywhere in a line (links need `[`, mentions,
/// timestamps, custom emoji and `<url>` links need `<`).
const INLINE: [char; 9] = ['\\', '*', '_', '~', '`', '|', '[', ']', '<'];
/// Characters that only mean something at the start of a line: headings, `-#` subtext, lists and
/// quotes.
const LINE_START: [char; 4] = ['#', '-', '>', '+'];

/// Store text as one inert line: it reads exactly as the store sent it, styles nothing, links
/// nowhere and mentions no one. Line breaks and other control characters become spaces, because
/// a value must not be able to start a heading or fake a line of the notice.
pub fn text(s: &str) -> String {
    let chars: Vec<char> = clean(s).collect();
    let mut out = String::with_capacity(s.len() + 8);
    let first = chars.iter().position(|c| !c.is_whitespace());
    for (i, &c) in chars.iter().enumerate() {
        let rest = &chars[i + 1..];
        let escape = INLINE.contains(&c)
            || (Some(i) == first && LINE_START.contains(&c))
            // `https://…` is linked by Discord on its own; `https\://…` reads the same, unlinked.
            || (c == ':' && rest.starts_with(&['/', '/']))
            || (c == '.' && ordered_list_marker(&chars, first, i));
        if escape {
            out.push('\\');
        }
        out.push(c);
        if c == '@' && (starts_with(rest, "everyone") || starts_with(rest, "here")) {
            // Never pings anyway (every notice disables mentions); this also stops it looking like one.
            out.push('\u{200B}');
        }
    }
    out
}

/// Store text for inside a code span (`` `…` ``), where Discord renders nothing but a backtick
/// would end the span early: backticks become a look-alike, control characters spaces.
pub fn code(s: &str) -> String {
    clean(s)
        .map(|c| if c == '`' { '\u{02CB}' } else { c })
        .collect()
}

/// A store-supplied link, kept only when it is a plain `https://` address: no spaces, quotes,
/// brackets or parentheses that could end a `[text](…)` or `<…>` around it. Anything else is
/// dropped rather than shown, since a link cannot be escaped without breaking it.
pub fn link(s: &str) -> Option<&str> {
    let url = s.trim();
    let host = url.strip_prefix("https://")?;
    let safe = |c: char| c.is_ascii_alphanumeric() || "-._~:/?#@!$&+,;=%".contains(c);
    (!host.is_empty() && !host.starts_with('/') && url.chars().all(safe)).then_some(url)
}

/// How escaped text reads in Discord, for the terminal preview: escapes are dropped outside code
/// spans (inside them Discord shows backslashes as written).
pub fn displayed(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' => in_code = !in_code,
            '\\' if !in_code => {
                if let Some(&next) = chars.peek().filter(|n| n.is_ascii_punctuation()) {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
            '\u{200B}' => continue,
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Control characters become spaces; bidirectional overrides, which can make `1.00` read as
/// `00.1`, are removed.
fn clean(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().filter_map(|c| match c {
        '\u{061C}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => None,
        c if c.is_control() => Some(' '),
        c => Some(c),
    })
}

/// Whether the `.` at `i` ends an ordered-list marker (`12. `) at the start of the text.
fn ordered_list_marker(chars: &[char], first: Option<usize>, i: usize) -> bool {
    let Some(first) = first else { return false };
    i > first
        && chars[first..i].iter().all(char::is_ascii_digit)
        && chars.get(i + 1).is_none_or(|c| c.is_whitespace())
}

fn starts_with(chars: &[char], word: &str) -> bool {
    let mut it = chars.iter();
    word.chars().all(|w| it.next() == Some(&w))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Discord's parser would still see as markdown in `s`: any special character that is
    /// not preceded by a backslash.
    fn live_markdown(s: &str) -> Vec<char> {
        let mut live = Vec::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' {
                chars.next();
                continue;
            }
            if INLINE.contains(&c) {
                live.push(c);
            }
        }
        live
    }

    #[test]
    fn a_masked_link_reads_as_written_and_links_nowhere() {
        let out = text("[click](https://evil.example)");
        assert_eq!(out, r"\[click\](https\://evil.example)");
        assert!(live_markdown(&out).is_empty());
        assert_eq!(displayed(&out), "[click](https://evil.example)");
    }

    #[test]
    fn bare_and_angle_bracket_links_are_not_linked() {
        assert_eq!(
            text("see https://evil.example"),
            r"see https\://evil.example"
        );
        assert_eq!(text("<https://evil.example>"), r"\<https\://evil.example>");
        assert_eq!(text("steam://run/1"), r"steam\://run/1");
    }

    #[test]
    fn mentions_neither_ping_nor_look_like_mentions() {
        assert_eq!(text("@everyone"), "@\u{200B}everyone");
        assert_eq!(text("hi @here!"), "hi @\u{200B}here!");
        assert_eq!(text("<@123> <@&456> <#789>"), r"\<@123> \<@&456> \<#789>");
        assert_eq!(text("<t:0:R> <:e:1>"), r"\<t:0:R> \<:e:1>");
        // An email is left readable.
        assert_eq!(text("jo***@example.com"), r"jo\*\*\*@example.com");
    }

    #[test]
    fn inline_styles_do_not_apply() {
        let hostile = "**bold** __under__ *it* _it_ ~~gone~~ ||spoiler|| `code` \\*";
        let out = text(hostile);
        assert!(live_markdown(&out).is_empty(), "{out}");
        assert_eq!(displayed(&out), hostile);
    }

    #[test]
    fn line_markers_at_the_start_are_escaped_and_elsewhere_left_alone() {
        assert_eq!(text("# Free"), r"\# Free");
        assert_eq!(text("### Free"), r"\### Free");
        assert_eq!(text("-# small"), r"\-# small");
        assert_eq!(text("- item"), r"\- item");
        assert_eq!(text("> quote"), r"\> quote");
        assert_eq!(text(">>> quote"), r"\>>> quote");
        assert_eq!(text("  # indented"), r"  \# indented");
        assert_eq!(text("12. item"), r"12\. item");
        assert_eq!(text("2.5 kg"), "2.5 kg");
        assert_eq!(text("Pack #2 - blue > red"), "Pack #2 - blue > red");
        assert_eq!(text("-€12.50"), r"\-€12.50");
    }

    #[test]
    fn line_breaks_and_direction_overrides_cannot_reshape_a_notice() {
        assert_eq!(text("a\n# Total: $0\r\tb"), "a # Total: $0  b");
        assert_eq!(text("\n# x"), r" \# x");
        assert_eq!(text("Price \u{202E}00.1"), "Price 00.1");
        assert_eq!(text("nul\0here"), "nul here");
    }

    #[test]
    fn plain_names_are_untouched() {
        for name in [
            "Pixel Art Course",
            "Café (Lifetime) ×2",
            "PH-TX-1001",
            "$29.99",
            "Ünïcode 🎨",
        ] {
            assert_eq!(text(name), name);
        }
    }

    #[test]
    fn code_spans_cannot_be_closed_early() {
        assert_eq!(code("SPRING"), "SPRING");
        assert_eq!(
            code("a`[x](https://e)`b\n"),
            "a\u{02CB}[x](https://e)\u{02CB}b "
        );
    }

    #[test]
    fn only_plain_https_links_are_kept() {
        assert_eq!(
            link(" https://payhip.com/b/AbC1?x=1_2#top "),
            Some("https://payhip.com/b/AbC1?x=1_2#top")
        );
        for bad in [
            "http://payhip.com/b/1",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://a.example/x)[click](https://evil",
            "https://a.example/<@1>",
            "https://a.example/ x",
            "https://a.example/`",
        ] {
            assert_eq!(link(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_preview_keeps_backslashes_inside_code_spans() {
        assert_eq!(displayed(r"\*a\* `b\*`"), r"*a* `b\*`");
    }
}
