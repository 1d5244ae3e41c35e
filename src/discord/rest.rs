//! Posting messages to Discord's REST API, for the outbox. serenity's `Http` hides the 429 body
//! and rate-limit headers when a base URL is set (its rate limiter is bypassed then), and the
//! outbox needs exactly those to schedule retries; so delivery speaks the two endpoints it needs
//! directly, with the same base URL rewriting.

use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::StatusCode;
use serde::Deserialize;

use super::message::Message;
use crate::config::Secret;
use crate::domain::DiscordWebhook;

pub const DISCORD_ORIGIN: &str = "https://discord.com";

/// Whatever Discord answers, one request never blocks the worker longer than this.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("rate limited by Discord for {0:?}")]
    RateLimited(Duration),
    /// A 4xx other than 401/429: retrying the same request cannot succeed.
    #[error("Discord refused the message ({status}, code {code}): {message}")]
    Refused {
        status: u16,
        code: i64,
        message: String,
    },
    #[error("Discord refused the bot token (401)")]
    Unauthorized,
    #[error("Discord is unavailable ({0})")]
    Unavailable(u16),
    /// Never includes the URL: a webhook URL carries its token.
    #[error("network error: {0}")]
    Network(String),
}

impl PostError {
    /// Errors after which the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        !matches!(self, PostError::Refused { .. })
    }
}

#[derive(Debug, Clone)]
pub struct Posted {
    pub message_id: Option<String>,
    /// Discord said the bucket is empty: wait this long before the next post to the same place.
    pub pace: Option<Duration>,
}

pub enum Target<'a> {
    Channel(u64),
    Webhook(&'a DiscordWebhook),
}

#[derive(Clone)]
pub struct DiscordRest {
    client: reqwest::Client,
    base: String,
    authorization: Option<String>,
}

impl DiscordRest {
    /// `base` replaces `https://discord.com` (a proxy or a test double).
    pub fn new(base: Option<&str>, token: Option<&Secret>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!(
                "DiscordBot (https://github.com/integrations-bot, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .build()?;
        let authorization = token.map(|t| {
            let t = t.expose().trim();
            if t.starts_with("Bot ") {
                t.to_owned()
            } else {
                format!("Bot {t}")
            }
        });
        Ok(Self {
            client,
            base: base
                .unwrap_or(DISCORD_ORIGIN)
                .trim_end_matches('/')
                .to_owned(),
            authorization,
        })
    }

    pub fn has_token(&self) -> bool {
        self.authorization.is_some()
    }

    pub async fn post(&self, target: Target<'_>, message: &Message) -> Result<Posted, PostError> {
        let request = match target {
            Target::Channel(id) => {
                let url = format!("{}/api/v10/channels/{id}/messages", self.base);
                let mut r = self.client.post(url).json(message);
                if let Some(auth) = &self.authorization {
                    r = r.header(AUTHORIZATION, auth);
                }
                r
            }
            Target::Webhook(hook) => {
                let mut m = message.clone();
                m.nonce = None;
                m.enforce_nonce = None;
                self.client
                    .post(hook.execute_url(Some(&self.base)))
                    .json(&m)
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| PostError::Network(e.without_url().to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| PostError::Network(e.without_url().to_string()))?;
        interpret(status, &headers, &body)
    }
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    code: i64,
    #[serde(default)]
    message: String,
    #[serde(default)]
    retry_after: Option<f64>,
}

fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(Duration::from_secs(60))
}

fn header_secs(headers: &HeaderMap, name: &str) -> Option<f64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Pure mapping of Discord's answer, so each case is unit-tested without a server.
fn interpret(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Result<Posted, PostError> {
    if status.is_success() {
        #[derive(Deserialize)]
        struct Created {
            id: String,
        }
        let message_id = serde_json::from_slice::<Created>(body).ok().map(|c| c.id);
        let empty = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0");
        let pace = empty
            .then(|| header_secs(headers, "x-ratelimit-reset-after"))
            .flatten()
            .map(seconds);
        return Ok(Posted { message_id, pace });
    }
    let error: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    match status.as_u16() {
        429 => {
            let secs = error
                .retry_after
                .or_else(|| header_secs(headers, "retry-after"))
                .unwrap_or(1.0);
            Err(PostError::RateLimited(seconds(secs)))
        }
        401 => Err(PostError::Unauthorized),
        408 => Err(PostError::Unavailable(408)),
        s @ 400..=499 => Err(PostError::Refused {
            status: s,
            code: error.code,
            message: super::message::truncate(&error.message, 200),
        }),
        s => Err(PostError::Unavailable(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn success_reads_the_message_id_and_pacing() {
        let ok = interpret(
            StatusCode::OK,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset-after", "1.5"),
            ]),
            br#"{"id":"123","content":""}"#,
        )
        .unwrap();
        assert_eq!(ok.message_id.as_deref(), Some("123"));
        assert_eq!(ok.pace, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn rate_limits_carry_retry_after_from_body_or_header() {
        let e = interpret(
            StatusCode::TOO_MANY_REQUESTS,
            &HeaderMap::new(),
            br#"{"retry_after": 2.25}"#,
        );
        assert!(matches!(e, Err(PostError::RateLimited(d)) if d == Duration::from_millis(2250)));
        let e = interpret(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "3")]),
            b"",
        );
        assert!(matches!(e, Err(PostError::RateLimited(d)) if d == Duration::from_secs(3)));
    }

    #[test]
    fn permanent_and_transient_failures_differ() {
        let e = interpret(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            br#"{"code":50013,"message":"Missing Permissions"}"#,
        )
        .unwrap_err();
        assert!(!e.is_transient());
        assert!(matches!(e, PostError::Refused { code: 50013, .. }));
        assert!(
            interpret(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>")
                .unwrap_err()
                .is_transient()
        );
        assert!(interpret(StatusCode::UNAUTHORIZED, &HeaderMap::new(), b"")
            .unwrap_err()
            .is_transient());
    }
}
