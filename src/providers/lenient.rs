//! Serde helpers for provider payloads, whose numbers sometimes arrive as strings (`"quantity": "1"`)
//! and whose ids are sometimes numbers. Money never goes through a float here.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::ProviderError;

/// Parses `body` into `T`, naming the JSON path of the first bad field in the error.
pub fn parse<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, ProviderError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            ProviderError::Malformed(inner)
        } else {
            ProviderError::Malformed(format!("`{path}`: {inner}"))
        }
    })
}

/// Like [`parse`], for a value found at `at` in the body (e.g. `data.object`): errors name the
/// whole path.
pub fn parse_at<T: serde::de::DeserializeOwned>(
    value: &Value,
    at: &str,
) -> Result<T, ProviderError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            ProviderError::Malformed(format!("`{at}`: {inner}"))
        } else {
            ProviderError::Malformed(format!("`{at}.{path}`: {inner}"))
        }
    })
}

/// A string, or a number written as a string. `null` and `""` are `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => None,
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a string, found {}",
                kind(&other)
            )))
        }
    })
}

/// An integer given as a JSON integer or as a string of digits. Fractions are refused so that
/// minor units are never silently rounded.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let bad = |what: String| serde::de::Error::custom(format!("expected an integer, found {what}"));
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| bad(n.to_string())),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad(format!("{s:?}"))),
        other => Err(bad(kind(&other).into())),
    }
}

/// A decimal amount as a JSON number or string, kept as text for exact conversion.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(serde::de::Error::custom(format!(
            "expected a decimal amount, found {}",
            kind(&other)
        ))),
    }
}

/// `true`/`false`, `1`/`0`, `"true"`/`"1"`/`"yes"`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::Number(n) => Some(n.as_f64().is_some_and(|v| v != 0.0)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Unix seconds to a UTC time; out-of-range values are treated as absent.
pub fn unix_seconds(secs: Option<i64>) -> Option<chrono::DateTime<chrono::Utc>> {
    secs.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
}

/// An id that may come as a string or, when the store expanded it, as an object with an `id`
/// (Stripe's expandable fields: `"payment_intent": "pi_…"` or `{"id": "pi_…", …}`).
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    })
}
