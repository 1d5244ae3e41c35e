//! Payhip's license API (v2), as far as `/claim` needs it.
//!
//! - `GET {base}/api/v2/license/verify?license_key=<key>` with the header `product-secret-key`
//!   set to the product's secret key (each product has its own, under the product's license
//!   settings). The key is checked against that one product only.
//! - A known key answers `{"data": {"enabled": …, "product_link": …, "license_key": …,
//!   "buyer_email": …, "uses": …, "date": …}}`. An unknown key answers 200 with an empty body or
//!   empty `data`, not a 4xx.
//! - Payhip disables a key when its sale is refunded (`enabled: false`); sellers can disable one
//!   by hand too.
//!
//! `uses` counts activations by the seller's software; the bot never increments it and does not
//! look at it, so a buyer who leaves and rejoins is never locked out.

use std::time::Duration;

use serde::Deserialize;

use crate::config::Secret;

pub const PAYHIP_ORIGIN: &str = "https://payhip.com";

#[derive(Debug, thiserror::Error)]
pub enum LicenseError {
    /// Network trouble, 5xx, 429: ask again later.
    #[error("Payhip's license API is unavailable ({0})")]
    Unavailable(String),
    /// 401/403: the product secret key is wrong.
    #[error("Payhip refused the product secret key ({0})")]
    Refused(u16),
}

/// What Payhip says about a key for one product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Unknown,
    Disabled,
    Valid,
}

#[derive(Clone)]
pub struct LicenseApi {
    client: reqwest::Client,
    base: String,
}

impl LicenseApi {
    /// `base` replaces `https://payhip.com` (`PAYHIP_API_BASE`: a proxy or a test double).
    pub fn new(base: Option<&str>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("integrations-bot/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            client,
            base: base
                .unwrap_or(PAYHIP_ORIGIN)
                .trim_end_matches('/')
                .to_owned(),
        }
    }

    pub async fn verify(&self, key: &str, secret: &Secret) -> Result<Verdict, LicenseError> {
        let response = self
            .client
            .get(format!("{}/api/v2/license/verify", self.base))
            .query(&[("license_key", key)])
            .header("product-secret-key", secret.expose())
            .send()
            .await
            // Without the URL: it carries the key.
            .map_err(|e| LicenseError::Unavailable(e.without_url().to_string()))?;
        let status = response.status();
        match status.as_u16() {
            401 | 403 => return Err(LicenseError::Refused(status.as_u16())),
            404 => return Ok(Verdict::Unknown),
            s if !status.is_success() => {
                return Err(LicenseError::Unavailable(format!("Payhip answered {s}")))
            }
            _ => {}
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| LicenseError::Unavailable(e.without_url().to_string()))?;
        Ok(verdict(&body, key))
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// Pure reading of an answer: empty, `data` empty or for another key, disabled, or valid.
pub fn verdict(body: &[u8], key: &str) -> Verdict {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Verdict::Unknown;
    }
    let Ok(answer) = serde_json::from_slice::<Answer>(body) else {
        return Verdict::Unknown;
    };
    let Some(data) = answer
        .data
        .filter(|d| d.as_object().is_some_and(|o| !o.is_empty()))
    else {
        return Verdict::Unknown;
    };
    let same_key = data["license_key"]
        .as_str()
        .is_none_or(|k| k.trim().eq_ignore_ascii_case(key.trim()));
    if !same_key {
        return Verdict::Unknown;
    }
    let enabled = match &data["enabled"] {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_i64() == Some(1),
        serde_json::Value::String(s) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    };
    if enabled {
        Verdict::Valid
    } else {
        Verdict::Disabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_payhip_sends_them() {
        let valid = br#"{"data":{"enabled":true,"product_link":"AbC12","license_key":"K-1","buyer_email":"a@b.c","uses":3,"date":"2026-01-01"}}"#;
        assert_eq!(verdict(valid, "K-1"), Verdict::Valid);
        let off = br#"{"data":{"enabled":false,"license_key":"K-1"}}"#;
        assert_eq!(verdict(off, "K-1"), Verdict::Disabled);
        assert_eq!(verdict(b"", "K-1"), Verdict::Unknown);
        assert_eq!(verdict(br#"{"data":{}}"#, "K-1"), Verdict::Unknown);
        assert_eq!(verdict(br#"{"data":null}"#, "K-1"), Verdict::Unknown);
        assert_eq!(
            verdict(valid, "K-2"),
            Verdict::Unknown,
            "another key's answer"
        );
    }
}
