//! The fake Discord's server members and their roles: the member endpoints role changes use
//! (`PUT`/`DELETE …/members/{user}/roles/{role}`, a member, a member search), with scripted
//! refusals such as the 403 a role above the bot's gets.

use std::collections::{BTreeSet, HashMap, VecDeque};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{error, FakeDiscord, Scripted};

#[derive(Default)]
pub(super) struct Members {
    /// (guild, user) -> username and roles.
    members: HashMap<(u64, u64), (String, BTreeSet<u64>)>,
    /// Answers for role changes, before the normal one.
    script: VecDeque<Scripted>,
}

pub(super) fn routes(router: Router<FakeDiscord>) -> Router<FakeDiscord> {
    router
        .route(
            "/api/v10/guilds/{guild}/members/{user}/roles/{role}",
            axum::routing::put(role_change).delete(role_change),
        )
        .route("/api/v10/guilds/{guild}/members/search", get(search))
        .route("/api/v10/guilds/{guild}/members/{user}", get(member))
}

impl FakeDiscord {
    /// Puts a user in a server.
    pub fn add_member(&self, guild: u64, user: u64, username: &str) {
        self.lock()
            .members
            .members
            .insert((guild, user), (username.to_owned(), BTreeSet::new()));
    }

    pub fn remove_member(&self, guild: u64, user: u64) {
        self.lock().members.members.remove(&(guild, user));
    }

    /// The roles a member has now.
    pub fn member_roles(&self, guild: u64, user: u64) -> Vec<u64> {
        self.lock()
            .members
            .members
            .get(&(guild, user))
            .map(|(_, r)| r.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Answers for the next role changes (`Status(403)` is Discord's Missing Permissions).
    pub fn script_roles(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.lock().members.script.extend(answers);
    }

    /// Every role change the bot asked for: (method, user, role, status).
    pub fn role_requests(&self) -> Vec<(String, u64, u64, u16)> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.contains("/roles/"))
            .filter_map(|r| {
                let parts: Vec<&str> = r.path.split('/').collect();
                let user = parts.get(6)?.parse().ok()?;
                let role = parts.get(8)?.parse().ok()?;
                Some((r.method.clone(), user, role, r.status))
            })
            .collect()
    }

    /// Waits until the member has (or lacks) the role, woken by each request.
    pub async fn wait_for_role(
        &self,
        guild: u64,
        user: u64,
        role: u64,
        present: bool,
        timeout: std::time::Duration,
    ) {
        let what = format!(
            "role {role} {} member {user}",
            if present { "on" } else { "off" }
        );
        self.wait_for_request(&what, timeout, |_| {
            self.member_roles(guild, user).contains(&role) == present
        })
        .await;
    }
}

async fn role_change(
    State(fake): State<FakeDiscord>,
    Path((guild, user, role)): Path<(u64, u64, u64)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (status, response) = {
        let mut inner = fake.lock();
        let down = inner.down;
        let scripted = inner.members.script.pop_front();
        let member = inner.members.members.get_mut(&(guild, user));
        match (down, scripted, member) {
            (true, _, _) => (503, error(503, 0, "upstream connect error")),
            (_, Some(Scripted::Status(403)), _) => (403, error(403, 50013, "Missing Permissions")),
            (_, Some(Scripted::Status(s)), _) => (s, error(s, 0, "scripted")),
            (_, Some(Scripted::RateLimited { retry_after }), _) => {
                let mut r = Json(json!({"message": "You are being rate limited.", "retry_after": retry_after, "global": false})).into_response();
                *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                (429, r)
            }
            (_, _, None) => (404, error(404, 10007, "Unknown Member")),
            (_, _, Some((_, roles))) => {
                if method == Method::PUT {
                    roles.insert(role);
                } else {
                    roles.remove(&role);
                }
                (204, StatusCode::NO_CONTENT.into_response())
            }
        }
    };
    fake.record(method.as_str(), uri.path(), status, Value::Null, &headers);
    response
}

fn member_json(user: u64, username: &str, roles: &BTreeSet<u64>) -> Value {
    json!({
        "user": { "id": user.to_string(), "username": username, "discriminator": "0",
                  "global_name": null, "avatar": null },
        "nick": null,
        "roles": roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "deaf": false,
        "mute": false,
    })
}

async fn search(
    State(fake): State<FakeDiscord>,
    Path(guild): Path<u64>,
    Query(q): Query<HashMap<String, String>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = q.get("query").cloned().unwrap_or_default().to_lowercase();
    let found: Vec<Value> = fake
        .lock()
        .members
        .members
        .iter()
        .filter(|((g, _), (name, _))| *g == guild && name.to_lowercase().starts_with(&query))
        .map(|((_, u), (name, roles))| member_json(*u, name, roles))
        .collect();
    fake.record("GET", uri.path(), 200, Value::Null, &headers);
    Json(found).into_response()
}

async fn member(
    State(fake): State<FakeDiscord>,
    Path((guild, user)): Path<(u64, u64)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let found = fake
        .lock()
        .members
        .members
        .get(&(guild, user))
        .map(|(name, roles)| member_json(user, name, roles));
    match found {
        Some(m) => {
            fake.record("GET", uri.path(), 200, Value::Null, &headers);
            Json(m).into_response()
        }
        None => {
            fake.record("GET", uri.path(), 404, Value::Null, &headers);
            error(404, 10007, "Unknown Member")
        }
    }
}
