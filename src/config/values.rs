//! Value formats the earlier bot's file uses that serde has no word for: hex colors and Discord
//! ids written as strings.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An RGB color written as `#RRGGBB` or `RRGGBB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub u32);

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("#{:06X}", self.0))
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_color(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a hex color like \"#00FF00\", found {text:?}"
            ))
        })
    }
}

fn parse_color(text: &str) -> Option<Color> {
    let hex = text.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(Color)
}

/// Channel ids are strings in the earlier bot's file; numbers and `""` (not set) are accepted too.
pub(super) mod opt_snowflake {
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(id) => s.serialize_str(&id.to_string()),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let bad = |found: &dyn std::fmt::Display| {
            serde::de::Error::custom(format!(
                "expected a Discord id (digits, as a string), found {found}"
            ))
        };
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => match s.trim().parse::<u64>() {
                Ok(id) if id > 0 => Ok(Some(id)),
                _ => Err(bad(&format!("{s:?}"))),
            },
            Value::Number(n) => match n.as_u64() {
                Some(id) if id > 0 => Ok(Some(id)),
                _ => Err(bad(&n)),
            },
            other => Err(bad(&other)),
        }
    }
}
