//! A fake Discord REST API on loopback. The bot is pointed at it through its Discord base URL
//! setting, exactly as a seller would point it at a proxy; tests script failures and read back
//! what "Discord" received.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::watch;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Channel(u64),
    Webhook { id: u64, token: String },
}

/// A message Discord accepted.
#[derive(Clone, Debug)]
pub struct Posted {
    pub target: Target,
    pub body: Value,
    pub message_id: String,
    pub at: Instant,
}

/// Any request, with the status it was answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: Value,
    pub authorization: Option<String>,
    pub at: Instant,
}

#[derive(Clone, Debug)]
pub enum Scripted {
    /// 429 with Discord's body and headers.
    RateLimited { retry_after: f64 },
    /// Any status with a Discord error body.
    Status(u16),
    /// Create the message, then hold the answer this long: a response that may be lost.
    Delay(Duration),
    /// Answer normally (to interleave successes with failures in a script).
    Ok,
    /// Create the message, then drop the connection without answering: Discord has it, the bot
    /// never hears so.
    Lost,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Scripted>,
    /// Scripts for one target only (by `Target`'s Debug form), used before the shared one.
    targeted: HashMap<String, VecDeque<Scripted>>,
    /// Channels the bot may not read (403 on listing their messages).
    unreadable: std::collections::HashSet<u64>,
    /// Every bot token is refused (401), as after a token reset.
    token_refused: bool,
    down: bool,
    messages: Vec<Posted>,
    requests: Vec<Recorded>,
    /// (target, nonce) -> message JSON of the first message created with that nonce, so that a
    /// repeat with `enforce_nonce` gets it back as real Discord does.
    nonces: HashMap<(String, String), Value>,
    next_id: u64,
    gateway_url: String,
    members: members::Members,
    /// Discord's per-channel limit, when enforced: posts per window.
    limit: Option<(u32, Duration)>,
    /// Per target: when its window ends, and the posts left in it.
    buckets: HashMap<String, (Instant, u32)>,
}

#[path = "members.rs"]
mod members;

#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Mutex<Inner>>,
    messages_seen: watch::Sender<usize>,
    requests_seen: watch::Sender<usize>,
    base: String,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake discord");
        let addr = listener.local_addr().expect("local addr");
        let fake = FakeDiscord {
            inner: Arc::new(Mutex::new(Inner {
                next_id: 1_100_000_000_000_000_000,
                gateway_url: "ws://127.0.0.1:1".into(),
                ..Inner::default()
            })),
            messages_seen: watch::channel(0).0,
            requests_seen: watch::channel(0).0,
            base: format!("http://{addr}"),
        };
        let app = Router::new()
            .route(
                "/api/v10/channels/{channel}/messages",
                post(channel_message).get(list_messages),
            )
            .route(
                "/api/v10/webhooks/{id}/{token}",
                post(webhook_message).get(webhook_object),
            )
            // Discord still answers webhook URLs with an older version or none, so the fake must
            // not be stricter than Discord for a client that skips the bot's rewrite to v10.
            .route("/api/v9/webhooks/{id}/{token}", post(webhook_message))
            .route("/api/webhooks/{id}/{token}", post(webhook_message))
            .route("/api/v10/gateway/bot", get(gateway))
            .route("/api/v10/gateway", get(gateway))
            .route("/api/v10/oauth2/applications/@me", get(application_info))
            .route("/api/v10/users/@me", get(current_user))
            .route(
                "/api/v10/applications/{app}/guilds/{guild}/commands",
                axum::routing::put(bulk_commands),
            )
            .route(
                "/api/v10/applications/{app}/commands",
                axum::routing::put(bulk_commands),
            )
            .route(
                "/api/v10/interactions/{id}/{token}/callback",
                post(interaction_callback),
            )
            .route(
                "/api/v10/webhooks/{id}/{token}/messages/@original",
                axum::routing::patch(edit_original).get(edit_original),
            )
            .fallback(unknown);
        let app = members::routes(app).with_state(fake.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        fake
    }

    pub fn base(&self) -> String {
        self.base.clone()
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.lock().script.extend(answers);
    }

    /// Answers for posts to one target only; other targets keep the shared script.
    pub fn script_for(&self, target: Target, answers: impl IntoIterator<Item = Scripted>) {
        self.lock()
            .targeted
            .entry(format!("{target:?}"))
            .or_default()
            .extend(answers);
    }

    /// The bot may not read this channel's messages (403), as when it is not in that server.
    pub fn set_unreadable(&self, channel: u64) {
        self.lock().unreadable.insert(channel);
    }

    /// Discord refuses every bot token (401), as after the token was reset.
    pub fn set_token_refused(&self, refused: bool) {
        self.lock().token_refused = refused;
    }

    /// Messages one target received.
    pub fn messages_to(&self, target: &Target) -> Vec<Posted> {
        self.messages()
            .into_iter()
            .filter(|m| &m.target == target)
            .collect()
    }

    /// Enforces Discord's per-channel limit: `per` posts in each `window` per target, then real
    /// 429 answers, with `X-RateLimit-*` headers on every answer as Discord sends them.
    pub fn enforce_rate_limit(&self, per: u32, window: Duration) {
        self.lock().limit = Some((per, window));
    }

    /// The bucket check: `Err` is the 429 to answer, `Ok` the headers of an accepted post.
    fn take_from_bucket(&self, key: &str) -> Result<Option<(u32, u32, Duration)>, Box<Response>> {
        let mut inner = self.lock();
        let Some((per, window)) = inner.limit else {
            return Ok(None);
        };
        let now = Instant::now();
        let bucket = inner.buckets.entry(key.to_owned()).or_insert((now, per));
        if now >= bucket.0 {
            *bucket = (now + window, per);
        }
        let reset_after = bucket.0.saturating_duration_since(now);
        if bucket.1 == 0 {
            let secs = reset_after.as_secs_f64();
            let mut r = Json(json!({
                "message": "You are being rate limited.",
                "retry_after": secs,
                "global": false
            }))
            .into_response();
            *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            let h = r.headers_mut();
            h.insert(
                "retry-after",
                secs.ceil().to_string().parse().expect("header"),
            );
            h.insert(
                "x-ratelimit-limit",
                per.to_string().parse().expect("header"),
            );
            h.insert("x-ratelimit-remaining", "0".parse().expect("header"));
            h.insert(
                "x-ratelimit-reset-after",
                format!("{secs:.3}").parse().expect("header"),
            );
            h.insert("x-ratelimit-scope", "shared".parse().expect("header"));
            return Err(Box::new(r));
        }
        bucket.1 -= 1;
        Ok(Some((per, bucket.1, reset_after)))
    }

    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    pub fn set_gateway_url(&self, url: String) {
        self.lock().gateway_url = url;
    }

    pub fn messages(&self) -> Vec<Posted> {
        self.lock().messages.clone()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    /// Waits for a request matching `pred` (woken by each new request, no polling).
    pub async fn wait_for_request(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        let mut rx = self.requests_seen.subscribe();
        let found = tokio::time::timeout(timeout, async {
            loop {
                if let Some(r) = self.requests().into_iter().find(|r| pred(r)) {
                    return r;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!(
                "no request for {what} within {timeout:?}; got {:#?}",
                self.requests()
            )
        })
    }

    /// Every notice Discord has, one per embed: the bot packs up to ten notices into one
    /// message when a place is behind, and each still counts once here.
    pub fn notices(&self) -> Vec<Posted> {
        self.messages().into_iter().flat_map(split_embeds).collect()
    }

    pub fn notices_to(&self, target: &Target) -> Vec<Posted> {
        self.messages_to(target)
            .into_iter()
            .flat_map(split_embeds)
            .collect()
    }

    /// The transaction ids of the sales Discord has, in the order they arrived, as many times as
    /// each arrived: one per sale embed, or every id a summary lists.
    pub fn sale_ids(&self) -> Vec<String> {
        self.notices().iter().flat_map(sale_ids_of).collect()
    }

    /// As [`Self::sale_ids`], for one target.
    pub fn sale_ids_to(&self, target: &Target) -> Vec<String> {
        self.notices_to(target)
            .iter()
            .flat_map(sale_ids_of)
            .collect()
    }

    /// Waits until `target` has been told of `n` sales, in any form.
    pub async fn wait_for_sales_to(&self, target: &Target, n: usize, timeout: Duration) {
        let reached = self
            .wait_until(timeout, |fake| fake.sale_ids_to(target).len() >= n)
            .await;
        assert!(
            reached.is_some(),
            "expected {n} sale(s) announced to {target:?} within {timeout:?}, got {}",
            self.sale_ids_to(target).len()
        );
    }

    /// Waits until Discord has `n` notices (embeds), woken by each new message.
    pub async fn wait_for_notices(&self, n: usize, timeout: Duration) -> Vec<Posted> {
        self.wait_until(timeout, |fake| fake.notices().len() >= n)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "expected {n} notice(s) within {timeout:?}, got {}",
                    self.notices().len()
                )
            });
        self.notices()
    }

    /// Waits until `target` has `n` notices (embeds).
    pub async fn wait_for_notices_to(&self, target: &Target, n: usize, timeout: Duration) {
        let reached = self
            .wait_until(timeout, |fake| fake.notices_to(target).len() >= n)
            .await;
        assert!(
            reached.is_some(),
            "expected {n} notice(s) to {target:?} within {timeout:?}, got {}",
            self.notices_to(target).len()
        );
    }

    /// Waits until `done` holds, woken by each new message; `None` on timeout.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&Self) -> bool) -> Option<()> {
        let mut rx = self.messages_seen.subscribe();
        tokio::time::timeout(timeout, async {
            while !done(self) {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await
        .ok()
    }

    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<Posted> {
        let mut rx = self.messages_seen.subscribe();
        if tokio::time::timeout(timeout, rx.wait_for(|seen| *seen >= n))
            .await
            .is_err()
        {
            panic!(
                "expected {n} message(s) within {timeout:?}, got {:#?}",
                self.messages()
            );
        }
        self.messages()
    }

    /// Waits until `target` has received `n` messages (woken by each new message).
    pub async fn wait_for_messages_to(&self, target: &Target, n: usize, timeout: Duration) {
        let mut rx = self.messages_seen.subscribe();
        let reached = tokio::time::timeout(timeout, async {
            while self.messages_to(target).len() < n {
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        })
        .await;
        assert!(
            reached.is_ok(),
            "expected {n} message(s) to {target:?} within {timeout:?}"
        );
    }

    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let mut rx = self.requests_seen.subscribe();
        if tokio::time::timeout(timeout, rx.wait_for(|seen| *seen >= n))
            .await
            .is_err()
        {
            panic!(
                "expected {n} request(s) within {timeout:?}, got {:#?}",
                self.requests()
            );
        }
        self.requests()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, method: &str, path: &str, status: u16, body: Value, headers: &HeaderMap) {
        let n = {
            let mut inner = self.lock();
            inner.requests.push(Recorded {
                method: method.to_owned(),
                path: path.to_owned(),
                status,
                body,
                authorization: headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                at: Instant::now(),
            });
            inner.requests.len()
        };
        self.requests_seen.send_replace(n);
    }

    /// The shared path of both message-creating routes.
    async fn create(
        &self,
        target: Target,
        path: String,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let json = body_json(&headers, &body);
        if json.is_null() {
            self.record("POST", &path, 400, Value::Null, &headers);
            return error(400, 50109, "The request body contains invalid JSON.");
        }
        let (down, scripted) = {
            let mut inner = self.lock();
            let key = format!("{target:?}");
            let refused =
                inner.token_refused && matches!(target, Target::Channel(_)) && !inner.down;
            if inner.down {
                (true, None)
            } else if refused {
                (false, Some(Scripted::Status(401)))
            } else {
                let own = inner.targeted.get_mut(&key).and_then(VecDeque::pop_front);
                (false, own.or_else(|| inner.script.pop_front()))
            }
        };
        if down {
            self.record("POST", &path, 503, json, &headers);
            return error(503, 0, "upstream connect error");
        }
        let bucket = match self.take_from_bucket(&format!("{target:?}")) {
            Ok(bucket) => bucket,
            Err(limited) => {
                self.record("POST", &path, 429, json, &headers);
                return *limited;
            }
        };
        let delay = match scripted {
            Some(Scripted::RateLimited { retry_after }) => {
                self.record("POST", &path, 429, json, &headers);
                let mut r = Json(json!({
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": false
                }))
                .into_response();
                *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                let h = r.headers_mut();
                let secs = retry_after.ceil().to_string();
                h.insert("retry-after", secs.parse().expect("header"));
                h.insert("x-ratelimit-limit", "5".parse().expect("header"));
                h.insert("x-ratelimit-remaining", "0".parse().expect("header"));
                h.insert(
                    "x-ratelimit-reset-after",
                    retry_after.to_string().parse().expect("header"),
                );
                h.insert("x-ratelimit-bucket", "fake".parse().expect("header"));
                h.insert("x-ratelimit-scope", "user".parse().expect("header"));
                return r;
            }
            Some(Scripted::Status(status)) => {
                self.record("POST", &path, status, json, &headers);
                let webhook = matches!(target, Target::Webhook { .. });
                let (code, message) = match status {
                    401 if webhook => (50027, "Invalid Webhook Token"),
                    401 => (0, "401: Unauthorized"),
                    403 => (50013, "Missing Permissions"),
                    404 if webhook => (10015, "Unknown Webhook"),
                    404 => (10003, "Unknown Channel"),
                    _ => (
                        0,
                        StatusCode::from_u16(status)
                            .ok()
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or("Internal Server Error"),
                    ),
                };
                return error(status, code, message);
            }
            Some(Scripted::Delay(d)) => Some(d),
            Some(Scripted::Lost) => {
                self.store_message(target, json.clone());
                self.record("POST", &path, 200, json, &headers);
                // Unwinding out of the handler ends the connection's task: the socket closes
                // before any answer is written. `resume_unwind` skips the panic hook's noise.
                std::panic::resume_unwind(Box::new("fake Discord: answer lost"));
            }
            Some(Scripted::Ok) | None => None,
        };
        let message = self.store_message(target, json.clone());
        self.record("POST", &path, 200, json, &headers);
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let mut r = Json(message).into_response();
        if let Some((per, left, reset_after)) = bucket {
            let h = r.headers_mut();
            h.insert(
                "x-ratelimit-limit",
                per.to_string().parse().expect("header"),
            );
            h.insert(
                "x-ratelimit-remaining",
                left.to_string().parse().expect("header"),
            );
            let secs = format!("{:.3}", reset_after.as_secs_f64());
            h.insert("x-ratelimit-reset-after", secs.parse().expect("header"));
        }
        r
    }

    /// Creates the message, or returns the earlier one for a repeated enforced nonce.
    fn store_message(&self, target: Target, body: Value) -> Value {
        let key = format!("{target:?}");
        let nonce = body.get("nonce").and_then(|n| match n {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let enforced = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
        let (count, message) = {
            let mut inner = self.lock();
            if let (true, Some(nonce)) = (enforced, &nonce) {
                if let Some(existing) = inner.nonces.get(&(key.clone(), nonce.clone())) {
                    return existing.clone();
                }
            }
            // Real snowflakes (time in the high bits), so "messages after <time>" works as on Discord.
            let now = u64::try_from(chrono::Utc::now().timestamp_millis() - 1_420_070_400_000)
                .unwrap_or(0)
                << 22;
            inner.next_id = (inner.next_id + 1).max(now);
            let id = inner.next_id.to_string();
            let message = message_json(&id, &target, &body);
            if let Some(nonce) = nonce {
                inner
                    .nonces
                    .entry((key, nonce))
                    .or_insert_with(|| message.clone());
            }
            inner.messages.push(Posted {
                target,
                body,
                message_id: id,
                at: Instant::now(),
            });
            (inner.messages.len(), message)
        };
        self.messages_seen.send_replace(count);
        message
    }
}

/// The sale ids one notice (a message with one embed) carries.
fn sale_ids_of(m: &Posted) -> Vec<String> {
    body_sale_ids(&m.body)
}

/// The sale ids a message body carries: each embed's Transaction ID, or the ids a summary lists.
pub fn body_sale_ids(body: &Value) -> Vec<String> {
    let embeds = body["embeds"].as_array().cloned().unwrap_or_default();
    embeds
        .iter()
        .flat_map(|embed| {
            let field = embed["fields"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["name"] == "Transaction ID"))
                .and_then(|f| f["value"].as_str())
                .map(|v| {
                    v.lines()
                        .next()
                        .unwrap_or_default()
                        .trim_matches('`')
                        .to_owned()
                });
            match field {
                Some(id) => vec![id],
                None => summary_ids(embed),
            }
        })
        .collect()
}

/// The store ids a summary embed lists ("+37 sales in one minute …" and the ids in code spans on
/// its last line); empty for any other embed.
pub fn summary_ids(embed: &Value) -> Vec<String> {
    let title = embed["title"].as_str().unwrap_or_default();
    if !title.contains(" in one minute") {
        return Vec::new();
    }
    let description = embed["description"].as_str().unwrap_or_default();
    description
        .lines()
        .last()
        .unwrap_or_default()
        .split(", ")
        .map(|id| id.trim_end_matches(" (test)").trim_matches('`').to_owned())
        .collect()
}

/// A message as the notices it carries: one per embed, each with the message's text.
fn split_embeds(m: Posted) -> Vec<Posted> {
    let embeds = m
        .body
        .get("embeds")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if embeds.len() <= 1 {
        return vec![m];
    }
    embeds
        .into_iter()
        .map(|embed| {
            let mut body = m.body.clone();
            body["embeds"] = Value::Array(vec![embed]);
            Posted { body, ..m.clone() }
        })
        .collect()
}

async fn channel_message(
    State(fake): State<FakeDiscord>,
    Path(channel): Path<u64>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.create(
        Target::Channel(channel),
        uri.path().to_owned(),
        headers,
        body,
    )
    .await
}

async fn webhook_message(
    State(fake): State<FakeDiscord>,
    Path((id, token)): Path<(u64, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    fake.create(
        Target::Webhook { id, token },
        uri.path().to_owned(),
        headers,
        body,
    )
    .await
}

async fn gateway(State(fake): State<FakeDiscord>, uri: Uri, headers: HeaderMap) -> Response {
    fake.record("GET", uri.path(), 200, Value::Null, &headers);
    let url = fake.lock().gateway_url.clone();
    Json(json!({
        "url": url,
        "shards": 1,
        "session_start_limit": { "total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1 }
    }))
    .into_response()
}

async fn unknown(
    State(fake): State<FakeDiscord>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record(method.as_str(), uri.path(), 404, Value::Null, &headers);
    error(404, 0, "Unknown route")
}

fn error(status: u16, code: i64, message: &str) -> Response {
    let mut r = Json(json!({ "message": message, "code": code })).into_response();
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r
}

/// A message object with every field serenity requires to deserialize one.
fn message_json(id: &str, target: &Target, body: &Value) -> Value {
    let channel_id = match target {
        Target::Channel(c) => c.to_string(),
        Target::Webhook { id, .. } => id.to_string(),
    };
    json!({
        "id": id,
        "channel_id": channel_id,
        "author": bot_user(),
        "content": body.get("content").cloned().unwrap_or(Value::String(String::new())),
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds").cloned().unwrap_or(Value::Array(vec![])),
        "pinned": false,
        "type": 0,
        "nonce": body.get("nonce").cloned().unwrap_or(Value::Null),
        "webhook_id": match target { Target::Webhook { id, .. } => Value::String(id.to_string()), _ => Value::Null },
    })
}

async fn application_info(
    State(fake): State<FakeDiscord>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record("GET", uri.path(), 200, Value::Null, &headers);
    Json(json!({
        "id": "940000000000000001", "name": "fake-app", "icon": null, "description": "",
        "bot_public": true, "bot_require_code_grant": false, "verify_key": "",
        "owner": { "id": "930000000000000001", "username": "owner", "discriminator": "0000",
                   "avatar": null, "global_name": null },
        "team": null, "flags": 0
    }))
    .into_response()
}

/// The bot's own user, for clients that look themselves up before posting.
async fn current_user(State(fake): State<FakeDiscord>, uri: Uri, headers: HeaderMap) -> Response {
    if fake.lock().token_refused {
        fake.record("GET", uri.path(), 401, Value::Null, &headers);
        return error(401, 0, "401: Unauthorized");
    }
    fake.record("GET", uri.path(), 200, Value::Null, &headers);
    Json(bot_user()).into_response()
}

/// The channel a webhook posts in: the fake files a webhook's messages under a channel with the
/// webhook's id.
fn webhook_channel(webhook_id: u64) -> u64 {
    webhook_id
}

/// A webhook object, as Discord shows it to whoever has the webhook's token.
async fn webhook_object(
    State(fake): State<FakeDiscord>,
    Path((id, token)): Path<(u64, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    fake.record("GET", uri.path(), 200, Value::Null, &headers);
    Json(json!({
        "id": id.to_string(), "type": 1, "name": "sales", "avatar": null,
        "channel_id": webhook_channel(id).to_string(), "guild_id": "800000000000000001",
        "application_id": null, "token": token,
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
struct ListQuery {
    limit: Option<usize>,
    after: Option<u64>,
}

/// A channel's messages after `after`, newest first, as Discord lists them to a bot that may read
/// the channel.
async fn list_messages(
    State(fake): State<FakeDiscord>,
    Path(channel): Path<u64>,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let bot = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bot "));
    let (refused, unreadable) = {
        let inner = fake.lock();
        (inner.token_refused, inner.unreadable.contains(&channel))
    };
    if !bot || refused {
        fake.record("GET", uri.path(), 401, Value::Null, &headers);
        return error(401, 0, "401: Unauthorized");
    }
    if unreadable {
        fake.record("GET", uri.path(), 403, Value::Null, &headers);
        return error(403, 50001, "Missing Access");
    }
    fake.record("GET", uri.path(), 200, Value::Null, &headers);
    let after = q.after.unwrap_or(0);
    let mut found: Vec<Value> = fake
        .messages()
        .iter()
        .filter(|m| {
            let in_channel = match &m.target {
                Target::Channel(c) => *c == channel,
                Target::Webhook { id, .. } => webhook_channel(*id) == channel,
            };
            in_channel && m.message_id.parse::<u64>().is_ok_and(|id| id > after)
        })
        .take(q.limit.unwrap_or(50).min(100))
        .map(|m| message_json(&m.message_id, &m.target, &m.body))
        .collect();
    found.reverse();
    Json(Value::Array(found)).into_response()
}

/// The author of every message the fake creates, so that ids agree across routes.
fn bot_user() -> Value {
    json!({ "id": "900000000000000001", "username": "fake-bot", "discriminator": "0000",
            "avatar": null, "bot": true, "global_name": null })
}

/// Bulk command registration: echoes the commands back as Discord would, with ids.
async fn bulk_commands(
    State(fake): State<FakeDiscord>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    fake.record("PUT", uri.path(), 200, json.clone(), &headers);
    let segs: Vec<&str> = uri.path().split('/').collect();
    let app = segs.get(4).copied().unwrap_or("0").to_owned();
    let guild = match (segs.get(5), segs.get(6)) {
        (Some(&"guilds"), Some(g)) => Value::String((*g).to_owned()),
        _ => Value::Null,
    };
    let commands: Vec<Value> = json
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, mut c)| {
            let o = c.as_object_mut()?;
            o.insert(
                "id".into(),
                json!((1_300_000_000_000_000_000u64 + i as u64).to_string()),
            );
            o.insert("application_id".into(), json!(app));
            o.insert("guild_id".into(), guild.clone());
            o.insert("version".into(), json!("1"));
            o.entry("type").or_insert(json!(1));
            o.entry("description").or_insert(json!(""));
            o.entry("default_member_permissions").or_insert(Value::Null);
            Some(c)
        })
        .collect();
    Json(Value::Array(commands)).into_response()
}

/// JSON bodies as they are; multipart bodies as their `payload_json` plus the attached file names
/// (under `"_files"`) and sizes, which is what tests look at.
fn body_json(headers: &HeaderMap, body: &[u8]) -> Value {
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    if !multipart {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    }
    let text = String::from_utf8_lossy(body);
    let mut payload = Value::Null;
    let mut files = Vec::new();
    for part in text.split("\r\n--") {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        if head.contains("name=\"payload_json\"") {
            payload = serde_json::from_str(content.trim_end_matches("\r\n")).unwrap_or(Value::Null);
        } else if let Some(name) = head
            .split("filename=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        {
            let mut file = json!({ "name": name, "bytes": content.len() });
            if name.ends_with(".csv") {
                file["text"] = json!(content.trim_end_matches("\r\n"));
            }
            files.push(file);
        }
    }
    if let Value::Object(o) = &mut payload {
        o.insert("_files".into(), Value::Array(files));
    }
    payload
}

async fn interaction_callback(
    State(fake): State<FakeDiscord>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = body_json(&headers, &body);
    fake.record("POST", uri.path(), 204, json, &headers);
    StatusCode::NO_CONTENT.into_response()
}

/// Editing (or reading) an interaction's original reply, where deferred answers land.
async fn edit_original(
    State(fake): State<FakeDiscord>,
    Path((id, _token)): Path<(u64, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = body_json(&headers, &body);
    fake.record(method.as_str(), uri.path(), 200, json.clone(), &headers);
    let message = message_json(
        "1200000000000000001",
        &Target::Webhook {
            id,
            token: String::new(),
        },
        &json,
    );
    Json(message).into_response()
}
