//! Posting messages to Discord's REST API, for the outbox. serenity's `Http` hides the 429 body
//! and rate-limit headers when a base URL is set (its rate limiter is bypassed then), and the
//! outbox needs exactly those to schedule retries; so delivery speaks the few endpoints it needs
//! directly, with the same base URL rewriting.

use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION};
use reqwest::StatusCode;
use serde::Deserialize;

use crate::config::Secret;
use crate::domain::DiscordWebhook;
use crate::notice::message::Message;

pub const DISCORD_ORIGIN: &str = "https://discord.com";

/// Whatever Discord answers, one request never blocks the worker longer than this. Shorter than
/// the outbox lease, so a post always ends before its claim could pass to another instance.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Discord's epoch (2015-01-01), for message ids made from a time.
const DISCORD_EPOCH_MS: i64 = 1_420_070_400_000;
/// Pages of 100 messages read when looking for a notice whose answer was lost.
const LOOKUP_PAGES: usize = 5;

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
    /// The bot token for channels; the webhook's own token for webhook URLs.
    #[error("Discord refused the token (401)")]
    Unauthorized,
    #[error("Discord is unavailable ({0})")]
    Unavailable(u16),
    /// No connection was made, so Discord never saw the request. Never includes the URL: a
    /// webhook URL carries its token.
    #[error("cannot reach Discord: {0}")]
    Unreachable(String),
    /// The request went out but no answer came back (timeout, connection lost): Discord may have
    /// posted the message.
    #[error("no answer from Discord: {0}")]
    NoAnswer(String),
}

impl PostError {
    /// Errors after which the same request may succeed later.
    pub fn is_transient(&self) -> bool {
        !matches!(self, PostError::Refused { .. })
    }

    /// Whether Discord may have created the message although the bot did not hear so.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, PostError::NoAnswer(_))
    }
}

/// Why a notice whose answer was lost could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No bot token, or the bot may not read the webhook's channel: the bot cannot check.
    #[error("the bot cannot read the webhook's channel ({0})")]
    CannotRead(String),
    /// Anything that may pass (network, 5xx, 429): check again later.
    #[error("looking for the message failed: {0}")]
    Failed(String),
}

/// What Discord said about the bot token at start-up.
#[derive(Debug)]
pub enum TokenCheck {
    Accepted { username: String },
    Refused,
    Unknown(String),
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
    timeout: Duration,
}

impl DiscordRest {
    /// `base` replaces `https://discord.com` (a proxy or a test double).
    pub fn new(base: Option<&str>, token: Option<&Secret>) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
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
            timeout: REQUEST_TIMEOUT,
        })
    }

    /// A shorter timeout, for tests of answers that never come.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn has_token(&self) -> bool {
        self.authorization.is_some()
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .client
            .get(format!("{}{path}", self.base))
            .timeout(self.timeout);
        if let Some(auth) = &self.authorization {
            r = r.header(AUTHORIZATION, auth);
        }
        r
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
                // `?wait=true`: Discord answers with the message, so its id is kept.
                self.client
                    .post(hook.execute_url(Some(&self.base)))
                    .json(&m)
            }
        };
        self.send_post(request).await
    }

    /// Sends a message-creating request and reads Discord's answer.
    pub(super) async fn send_post(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Posted, PostError> {
        let response = request
            .timeout(self.timeout)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let headers = response.headers().clone();
        match response.bytes().await {
            Ok(body) => interpret(status, &headers, &body),
            // The status line says what happened; only the body (the message id) is missing.
            Err(_) => interpret(status, &headers, b""),
        }
    }

    /// The channel a webhook posts in, from the webhook object (readable with its own token).
    pub async fn webhook_channel(&self, hook: &DiscordWebhook) -> Result<u64, LookupError> {
        #[derive(Deserialize)]
        struct Webhook {
            channel_id: String,
        }
        let path = format!("/api/v10/webhooks/{}/{}", hook.id, hook.token);
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| LookupError::Failed(describe(e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(lookup_status(status));
        }
        let webhook: Webhook = response
            .json()
            .await
            .map_err(|e| LookupError::Failed(describe(e)))?;
        webhook
            .channel_id
            .parse()
            .map_err(|_| LookupError::Failed("the webhook object names no channel".into()))
    }

    /// Looks for a message the webhook posted since `since_ms` whose footer or text carries
    /// `marker`. Needs a bot token that may read the channel.
    pub async fn find_webhook_message(
        &self,
        channel: u64,
        webhook_id: u64,
        marker: &str,
        since_ms: i64,
    ) -> Result<Option<String>, LookupError> {
        if !self.has_token() {
            return Err(LookupError::CannotRead("no bot token".into()));
        }
        let mut after = snowflake_at(since_ms);
        for _ in 0..LOOKUP_PAGES {
            let path = format!("/api/v10/channels/{channel}/messages?limit=100&after={after}");
            let response = self
                .get(&path)
                .send()
                .await
                .map_err(|e| LookupError::Failed(describe(e)))?;
            let status = response.status();
            if !status.is_success() {
                return Err(lookup_status(status));
            }
            let page: Vec<serde_json::Value> = response
                .json()
                .await
                .map_err(|e| LookupError::Failed(describe(e)))?;
            if let Some(found) = page.iter().find(|m| carries(m, webhook_id, marker)) {
                return Ok(found["id"].as_str().map(str::to_owned));
            }
            if page.len() < 100 {
                return Ok(None);
            }
            after = page
                .iter()
                .filter_map(|m| m["id"].as_str()?.parse::<u64>().ok())
                .max()
                .unwrap_or(after);
        }
        Ok(None)
    }

    /// Asks Discord who the bot is, so a refused token is named at start-up, not at the first sale.
    pub async fn check_token(&self) -> Option<TokenCheck> {
        #[derive(Deserialize)]
        struct User {
            username: String,
        }
        self.authorization.as_ref()?;
        let response = match self.get("/api/v10/users/@me").send().await {
            Ok(r) => r,
            Err(e) => return Some(TokenCheck::Unknown(describe(e))),
        };
        Some(match response.status() {
            StatusCode::UNAUTHORIZED => TokenCheck::Refused,
            s if s.is_success() => match response.json::<User>().await {
                Ok(u) => TokenCheck::Accepted {
                    username: u.username,
                },
                Err(e) => TokenCheck::Unknown(describe(e)),
            },
            s => TokenCheck::Unknown(format!("Discord answered {s}")),
        })
    }
}

/// The error with its causes ("error sending request: operation timed out"), never the URL: a
/// webhook URL carries its token.
fn describe(e: reqwest::Error) -> String {
    let timed_out = e.is_timeout();
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if timed_out && !text.contains("timed out") {
        text.push_str(" (timed out)");
    }
    text
}

fn network(e: reqwest::Error) -> PostError {
    let connect = e.is_connect();
    let text = describe(e);
    if connect {
        PostError::Unreachable(text)
    } else {
        PostError::NoAnswer(text)
    }
}

fn lookup_status(status: StatusCode) -> LookupError {
    match status.as_u16() {
        s @ (401 | 403 | 404) => LookupError::CannotRead(format!("Discord answered {s}")),
        s => LookupError::Failed(format!("Discord answered {s}")),
    }
}

/// The smallest message id Discord could give a message created at `ms`.
fn snowflake_at(ms: i64) -> u64 {
    u64::try_from(ms.saturating_sub(DISCORD_EPOCH_MS)).unwrap_or(0) << 22
}

fn carries(message: &serde_json::Value, webhook_id: u64, marker: &str) -> bool {
    let by_webhook = message["webhook_id"].as_str() == Some(webhook_id.to_string().as_str());
    let in_footer = message["embeds"].as_array().is_some_and(|embeds| {
        embeds.iter().any(|e| {
            e["footer"]["text"]
                .as_str()
                .is_some_and(|t| t.contains(marker))
        })
    });
    let in_content = message["content"]
        .as_str()
        .is_some_and(|c| c.contains(marker));
    by_webhook && (in_footer || in_content)
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
            message: crate::notice::message::truncate(&error.message, 200),
        }),
        s => Err(PostError::Unavailable(s)),
    }
}

#[path = "rest_files.rs"]
mod files;

#[path = "rest_roles.rs"]
mod roles;
pub use roles::{MISSING_PERMISSIONS, UNKNOWN_MEMBER, UNKNOWN_ROLE};

#[cfg(test)]
#[path = "rest_tests.rs"]
mod tests;
