//! A ping's parameters. Gumroad posts them form-encoded (or as JSON, if the seller chose it),
//! nested ones named with brackets: `card[visual]`, `variants[Tier]`, `purchase_ids[]`. Both
//! encodings are read into that one flat form.

use serde_json::Value;

use crate::providers::{sha256_hex, ProviderError};

pub(super) struct Fields(Vec<(String, String)>);

impl Fields {
    /// Reads a form body, or a JSON object when the body is one.
    pub(super) fn parse(body: &[u8], json: bool) -> Result<Self, ProviderError> {
        let looks_json = body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{');
        if json || looks_json {
            let value = crate::providers::json_object(body)?;
            let mut out = Vec::new();
            flatten(&value, "", &mut out);
            return Ok(Self(out));
        }
        Ok(Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        ))
    }

    /// The first non-empty value of `name`.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub(super) fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| matches!(v.trim(), "true" | "1"))
    }

    /// A whole number of cents (or units); a fraction or text is refused, naming the field.
    pub(super) fn integer(&self, name: &str) -> Result<Option<i64>, ProviderError> {
        self.get(name)
            .map(|v| {
                v.trim().parse::<i64>().map_err(|_| {
                    ProviderError::Malformed(format!(
                        "`{name}`: expected a whole number, found {v:?}"
                    ))
                })
            })
            .transpose()
    }

    /// `(inner name, value)` of each `prefix[inner]` parameter: `variants[Tier]` → `("Tier", …)`.
    pub(super) fn nested<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.0.iter().filter_map(move |(k, v)| {
            let inner = k
                .strip_prefix(prefix)?
                .strip_prefix('[')?
                .strip_suffix(']')?;
            (!inner.is_empty() && !v.trim().is_empty()).then_some((inner, v.as_str()))
        })
    }

    /// A digest of every parameter but `retry_count`, which Gumroad adds to a retried ping: the
    /// same ping, retried, has the same digest.
    pub(super) fn digest(&self) -> String {
        let mut parts: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k != "retry_count")
            .map(|(k, v)| format!("{}={}", k.len(), k) + &format!("{}={v}", v.len()))
            .collect();
        parts.sort();
        sha256_hex(parts.join("&").as_bytes())
    }
}

fn flatten(value: &Value, name: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let inner = if name.is_empty() {
                    k.clone()
                } else {
                    format!("{name}[{k}]")
                };
                flatten(v, &inner, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                flatten(v, &format!("{name}[]"), out);
            }
        }
        Value::String(s) => out.push((name.to_owned(), s.clone())),
        Value::Null => out.push((name.to_owned(), String::new())),
        other => out.push((name.to_owned(), other.to_string())),
    }
}
