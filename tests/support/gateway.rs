//! A fake Discord gateway (websocket) on loopback. The fake REST server hands serenity this
//! URL from `GET /api/v10/gateway` (what `ClientBuilder` asks; `/gateway/bot` is only used by
//! `start_autosharded`); serenity connects to `ws://127.0.0.1:PORT/?v=10`, receives HELLO,
//! IDENTIFYs, and gets READY plus one GUILD_CREATE. Tests then push INTERACTION_CREATE dispatches
//! to the bot and read what it answered through the fake REST server.
//!
//! Frames are plain JSON text: serenity sends `compress: true` in IDENTIFY but decodes Text frames
//! as JSON as-is (only Binary frames are zlib-inflated), so the fake never compresses.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

/// The bot user the fake READY announces.
pub const BOT_USER_ID: u64 = 900_000_000_000_000_001;
/// The channel interactions come from unless a test says otherwise.
pub const CHANNEL_ID: u64 = 910_000_000_000_000_001;
/// The direct-message channel between a user and the bot.
pub const DM_CHANNEL_ID: u64 = 915_000_000_000_000_001;
/// The command id put in slash command payloads.
pub const COMMAND_ID: u64 = 920_000_000_000_000_001;

const JOINED_AT: &str = "2024-01-01T00:00:00.000000+00:00";

/// A frame a client sent, with when.
#[derive(Clone, Debug)]
pub struct Received {
    pub op: u64,
    pub d: Value,
    pub at: Instant,
}

#[derive(Default)]
struct State {
    /// Sender to the writer task of the client that most recently IDENTIFYed.
    client: Option<mpsc::UnboundedSender<Message>>,
    /// Last sequence number sent to that client.
    seq: u64,
    identifies: Vec<Value>,
    presence_updates: Vec<Value>,
    frames: Vec<Received>,
    connections: usize,
    heartbeats: usize,
}

/// How the fake behaves towards every client.
#[derive(Clone, Copy, Debug)]
pub struct GatewayOptions {
    /// Whether READY lists the guild (and a GUILD_CREATE follows), or the bot is in no server.
    pub in_server: bool,
    /// The HELLO heartbeat interval; short, so that a test sees heartbeat latency measured.
    pub heartbeat_interval_ms: u64,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            in_server: true,
            heartbeat_interval_ms: 41_250,
        }
    }
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<State>>,
    /// Number of IDENTIFYs received so far.
    identified: watch::Sender<usize>,
    application_id: u64,
    guild_id: u64,
    url: String,
    options: GatewayOptions,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Clone)]
pub struct FakeGateway {
    shared: Shared,
}

impl FakeGateway {
    pub async fn start(application_id: u64, guild_id: u64) -> FakeGateway {
        Self::start_with(application_id, guild_id, GatewayOptions::default()).await
    }

    pub async fn start_with(
        application_id: u64,
        guild_id: u64,
        options: GatewayOptions,
    ) -> FakeGateway {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake gateway");
        let addr = listener.local_addr().expect("local addr");
        let shared = Shared {
            state: Arc::new(Mutex::new(State::default())),
            identified: watch::channel(0).0,
            application_id,
            guild_id,
            url: format!("ws://{addr}"),
            options,
        };
        let accept = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(accept.clone(), stream));
            }
        });
        FakeGateway { shared }
    }

    /// `ws://127.0.0.1:PORT`, for `FakeDiscord::set_gateway_url`.
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    pub fn application_id(&self) -> u64 {
        self.shared.application_id
    }

    pub fn guild_id(&self) -> u64 {
        self.shared.guild_id
    }

    /// Waits for the first IDENTIFY and returns its `d` (token, intents, properties, presence...).
    pub async fn wait_for_identify(&self, timeout: Duration) -> Value {
        self.wait_for_identifies(1, timeout).await.remove(0)
    }

    /// Waits until `n` IDENTIFYs arrived (reconnects identify again) and returns all of them.
    pub async fn wait_for_identifies(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let mut rx = self.shared.identified.subscribe();
        if tokio::time::timeout(timeout, rx.wait_for(|seen| *seen >= n))
            .await
            .is_err()
        {
            panic!(
                "expected {n} IDENTIFY(s) within {timeout:?}, got {:#?}",
                self.identifies()
            );
        }
        self.identifies()
    }

    pub fn identifies(&self) -> Vec<Value> {
        self.shared.lock().identifies.clone()
    }

    /// The `d` of every op 3 PRESENCE_UPDATE received.
    pub fn presence_updates(&self) -> Vec<Value> {
        self.shared.lock().presence_updates.clone()
    }

    /// Every frame any client sent, in order.
    pub fn frames(&self) -> Vec<Received> {
        self.shared.lock().frames.clone()
    }

    pub fn connections(&self) -> usize {
        self.shared.lock().connections
    }

    pub fn heartbeats(&self) -> usize {
        self.shared.lock().heartbeats
    }

    /// Sends an arbitrary dispatch (op 0) to the identified client; waits up to 10 s for one.
    pub async fn send_dispatch(&self, t: &str, d: Value) {
        self.wait_for_identifies(1, Duration::from_secs(10)).await;
        let mut state = self.shared.lock();
        let Some(client) = state.client.clone() else {
            panic!("no gateway client connected");
        };
        state.seq += 1;
        let frame = json!({ "op": 0, "t": t, "s": state.seq, "d": d });
        client
            .send(Message::Text(frame.to_string()))
            .expect("gateway client went away");
    }

    /// Sends an INTERACTION_CREATE dispatch carrying `payload`.
    pub async fn send_interaction(&self, payload: Value) {
        self.send_dispatch("INTERACTION_CREATE", payload).await;
    }

    /// Closes the current client's socket with `code` (e.g. 4000 to make serenity reconnect).
    pub fn close_client(&self, code: u16) {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        if let Some(client) = self.shared.lock().client.take() {
            let _ = client.send(Message::Close(Some(CloseFrame {
                code: CloseCode::from(code),
                reason: "fake gateway closing".into(),
            })));
        }
    }

    /// An APPLICATION_COMMAND (type 2) interaction that serenity reads as
    /// `Interaction::Command`. `options` is the array of `{name, type, value}` (or `json!([])`).
    /// `member_permissions` is the member's permission bitfield as a decimal string.
    pub fn slash_command(
        &self,
        interaction_id: u64,
        token: &str,
        name: &str,
        options: Value,
        user_id: u64,
        member_permissions: &str,
    ) -> Value {
        let guild_id = self.shared.guild_id.to_string();
        let mut payload =
            self.interaction_base(2, interaction_id, token, user_id, member_permissions);
        payload["data"] = json!({
            "id": COMMAND_ID.to_string(),
            "name": name,
            "type": 1,
            "options": if options.is_null() { json!([]) } else { options },
            "guild_id": guild_id,
        });
        payload
    }

    /// The same slash command sent from another server the bot is in (e.g. through a copy of the
    /// commands registered globally).
    #[allow(clippy::too_many_arguments)]
    pub fn slash_command_in_guild(
        &self,
        guild_id: u64,
        interaction_id: u64,
        token: &str,
        name: &str,
        options: Value,
        user_id: u64,
        member_permissions: &str,
    ) -> Value {
        let mut payload = self.slash_command(
            interaction_id,
            token,
            name,
            options,
            user_id,
            member_permissions,
        );
        let guild = json!(guild_id.to_string());
        payload["guild_id"] = guild.clone();
        payload["channel"]["guild_id"] = guild.clone();
        payload["data"]["guild_id"] = guild.clone();
        payload["authorizing_integration_owners"] = json!({ "0": guild });
        payload
    }

    /// A slash command sent in a direct message to the bot: no guild, no member, only the user.
    /// Discord delivers these for commands not limited to servers.
    pub fn dm_slash_command(
        &self,
        interaction_id: u64,
        token: &str,
        name: &str,
        user_id: u64,
    ) -> Value {
        json!({
            "id": interaction_id.to_string(),
            "application_id": self.shared.application_id.to_string(),
            "type": 2,
            "token": token,
            "version": 1,
            "channel_id": DM_CHANNEL_ID.to_string(),
            "channel": { "id": DM_CHANNEL_ID.to_string(), "type": 1, "recipients": [] },
            "locale": "en-US",
            // What Discord grants in a DM, whatever the command's default permission.
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": { "0": self.shared.guild_id.to_string() },
            "context": 1,
            "attachment_size_limit": 26_214_400,
            "user": user_json(user_id, &format!("user{user_id}"), false),
            "data": {
                "id": COMMAND_ID.to_string(),
                "name": name,
                "type": 1,
                "options": [],
            },
        })
    }

    /// A MESSAGE_COMPONENT (type 3) button click that serenity reads as
    /// `Interaction::Component`, on a bot message `message_id` in `CHANNEL_ID`.
    pub fn button_click(
        &self,
        interaction_id: u64,
        token: &str,
        custom_id: &str,
        message_id: u64,
        user_id: u64,
    ) -> Value {
        // A button click from a regular member: VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY.
        let mut payload = self.interaction_base(3, interaction_id, token, user_id, "68608");
        payload["message"] = message_json(message_id, CHANNEL_ID, self.shared.guild_id);
        payload["data"] = json!({ "custom_id": custom_id, "component_type": 2 });
        payload
    }

    fn interaction_base(
        &self,
        kind: u8,
        interaction_id: u64,
        token: &str,
        user_id: u64,
        member_permissions: &str,
    ) -> Value {
        let guild_id = self.shared.guild_id.to_string();
        json!({
            "id": interaction_id.to_string(),
            "application_id": self.shared.application_id.to_string(),
            "type": kind,
            "token": token,
            "version": 1,
            "guild_id": guild_id,
            "channel_id": CHANNEL_ID.to_string(),
            "channel": { "id": CHANNEL_ID.to_string(), "type": 0, "name": "general",
                         "guild_id": guild_id },
            "locale": "en-US",
            "guild_locale": "en-US",
            // Everything the bot could want in the channel (administrator).
            "app_permissions": "8",
            "entitlements": [],
            "authorizing_integration_owners": { "0": guild_id },
            "context": 0,
            "attachment_size_limit": 26_214_400,
            "member": {
                "user": user_json(user_id, &format!("user{user_id}"), false),
                "nick": null,
                "avatar": null,
                "roles": [],
                "joined_at": JOINED_AT,
                "premium_since": null,
                "deaf": false,
                "mute": false,
                "flags": 0,
                "pending": false,
                "permissions": member_permissions,
                "communication_disabled_until": null,
            },
        })
    }
}

fn user_json(id: u64, username: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": username,
        "discriminator": "0000",
        "avatar": null,
        "bot": bot,
        "global_name": null,
        "public_flags": 0,
    })
}

/// A bot message with every field serenity requires (same shape as discord.rs `message_json`).
fn message_json(message_id: u64, channel_id: u64, guild_id: u64) -> Value {
    json!({
        "id": message_id.to_string(),
        "channel_id": channel_id.to_string(),
        "guild_id": guild_id.to_string(),
        "author": user_json(BOT_USER_ID, "fake-bot", true),
        "content": "",
        "timestamp": JOINED_AT,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
    })
}

fn ready_json(shared: &Shared) -> Value {
    json!({
        "v": 10,
        "user": {
            "id": BOT_USER_ID.to_string(),
            "username": "fake-bot",
            "discriminator": "0000",
            "avatar": null,
            "bot": true,
            "global_name": null,
            "verified": true,
            "mfa_enabled": false,
            "flags": 0,
        },
        "guilds": if shared.options.in_server {
            json!([{ "id": shared.guild_id.to_string(), "unavailable": true }])
        } else {
            json!([])
        },
        "session_id": "fake-session",
        "resume_gateway_url": shared.url,
        "shard": [0, 1],
        "application": { "id": shared.application_id.to_string(), "flags": 0 },
        "private_channels": [],
        "relationships": [],
        "user_settings": {},
    })
}

fn guild_create_json(shared: &Shared) -> Value {
    let mut guild = json!({
        "id": shared.guild_id.to_string(),
        "name": "Fake Guild",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": "930000000000000001",
        "afk_timeout": 300,
        "widget_enabled": false,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
    });
    // Two literals: one would exceed the default macro recursion limit.
    let extra = json!({
        "joined_at": JOINED_AT,
        "large": false,
        "unavailable": false,
        "member_count": 1,
        "voice_states": [],
        "members": [],
        "channels": [],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    });
    if let (Value::Object(g), Value::Object(e)) = (&mut guild, extra) {
        g.extend(e);
    }
    guild
}

async fn serve(shared: Shared, stream: TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    shared.lock().connections += 1;
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            let close = matches!(msg, Message::Close(_));
            if sink.send(msg).await.is_err() || close {
                break;
            }
        }
        let _ = sink.close().await;
    });
    let send = |v: Value| {
        let _ = tx.send(Message::Text(v.to_string()));
    };
    let interval = shared.options.heartbeat_interval_ms;
    send(json!({ "op": 10, "s": null, "t": null, "d": { "heartbeat_interval": interval } }));

    while let Some(Ok(msg)) = source.next().await {
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(b) => String::from_utf8_lossy(&b).into_owned(),
            Message::Close(_) => break,
            _ => continue,
        };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let op = frame.get("op").and_then(Value::as_u64).unwrap_or(u64::MAX);
        let d = frame.get("d").cloned().unwrap_or(Value::Null);
        shared.lock().frames.push(Received {
            op,
            d: d.clone(),
            at: Instant::now(),
        });
        match op {
            // HEARTBEAT
            1 => {
                shared.lock().heartbeats += 1;
                send(json!({ "op": 11, "s": null, "t": null, "d": null }));
            }
            // IDENTIFY
            2 => {
                let n = {
                    let mut state = shared.lock();
                    send(json!({ "op": 0, "t": "READY", "s": 1, "d": ready_json(&shared) }));
                    state.seq = 1;
                    if shared.options.in_server {
                        send(json!({ "op": 0, "t": "GUILD_CREATE", "s": 2,
                                     "d": guild_create_json(&shared) }));
                        state.seq = 2;
                    }
                    state.client = Some(tx.clone());
                    state.identifies.push(d);
                    state.identifies.len()
                };
                shared.identified.send_replace(n);
            }
            // PRESENCE_UPDATE
            3 => shared.lock().presence_updates.push(d),
            // RESUME: there is no session to resume; make the client identify afresh.
            6 => send(json!({ "op": 9, "s": null, "t": null, "d": false })),
            _ => {}
        }
    }
}
