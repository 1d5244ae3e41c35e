//! serde's type errors ("invalid type: string \"abc\", expected u16") rewritten in the seller's
//! words, with the value found in their file.

use serde_json::Value;

/// The message for a value serde refused, where `seen` is that value as written in the file.
pub fn plain(serde_message: &str, seen: Option<&Value>) -> String {
    let found = seen.map(shown).unwrap_or_else(|| "nothing".into());
    let expected = if let Some((_, expected)) = serde_message
        .strip_prefix("invalid type: ")
        .or_else(|| serde_message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "))
    {
        expected_in_words(expected)
    } else {
        match serde_message {
            "invalid IP address syntax" => {
                "an IP address like \"0.0.0.0\" or \"127.0.0.1\"".to_owned()
            }
            "invalid socket address syntax" => {
                "an IP address and a port like \"127.0.0.1:9091\"".to_owned()
            }
            // The bot's own messages already say what was expected and what was found.
            other => return other.to_owned(),
        }
    };
    format!("expected {expected}, found {found}")
}

fn expected_in_words(serde_expected: &str) -> String {
    match serde_expected {
        "u16" => "a whole number from 0 to 65535".into(),
        "u32" => "a whole number from 0 to 4294967295".into(),
        "u64" | "usize" => "a whole number, 0 or more".into(),
        "a boolean" => "true or false".into(),
        "a string" => "text in double quotes".into(),
        "a sequence" => "a list in square brackets, like [\"…\"]".into(),
        "IP address" => "an IP address like \"0.0.0.0\" or \"127.0.0.1\"".into(),
        "socket address" => "an IP address and a port like \"127.0.0.1:9091\"".into(),
        s if s.starts_with("struct ") || s == "a map" => {
            "a section in curly braces, like { … }".into()
        }
        other => other.to_owned(),
    }
}

/// A value as the seller wrote it, short enough for one line.
pub fn shown(value: &Value) -> String {
    const MAX: usize = 60;
    let text = value.to_string();
    if text.chars().count() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rust_type_names_become_words_with_the_value_seen() {
        let cases = [
            (
                "invalid type: string \"abc\", expected u16",
                json!("abc"),
                "expected a whole number from 0 to 65535, found \"abc\"",
            ),
            (
                "invalid value: integer `-1`, expected u16",
                json!(-1),
                "expected a whole number from 0 to 65535, found -1",
            ),
            (
                "invalid type: string \"https://x\", expected a sequence",
                json!("https://x"),
                "expected a list in square brackets, like [\"…\"], found \"https://x\"",
            ),
            (
                "invalid type: string \"yes\", expected a boolean",
                json!("yes"),
                "expected true or false, found \"yes\"",
            ),
            (
                "invalid type: boolean `true`, expected struct EventTypes",
                json!(true),
                "expected a section in curly braces, like { … }, found true",
            ),
            (
                "invalid IP address syntax",
                json!("localhost"),
                "expected an IP address like \"0.0.0.0\" or \"127.0.0.1\", found \"localhost\"",
            ),
        ];
        for (serde, seen, words) in cases {
            assert_eq!(plain(serde, Some(&seen)), words);
        }
    }

    #[test]
    fn the_bots_own_messages_are_kept() {
        let own = "expected a hex color like \"#00FF00\", found \"red\"";
        assert_eq!(plain(own, Some(&json!("red"))), own);
    }

    #[test]
    fn long_values_are_cut() {
        let long = json!("x".repeat(500));
        assert!(shown(&long).chars().count() <= 61);
    }
}
