//! The member endpoints role changes need, beside the message posts of [`super::DiscordRest`]:
//!
//! - `PUT` / `DELETE /guilds/{guild}/members/{user}/roles/{role}`: 204 when done, and idempotent
//!   (adding a role the member has, or removing one they lack, is also 204). Needs Manage Roles,
//!   and the role must sit below the bot's highest role, else 403 with code 50013.
//! - `GET /guilds/{guild}/members/{user}`: 404 (code 10007) when the user is not in the server.
//! - `GET /guilds/{guild}/members/search?query=…`: members whose username or nickname starts
//!   with the query.

use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use serde::Deserialize;

use super::{interpret, network, DiscordRest, PostError};
use crate::roles::DiscordName;

/// Discord's code for "Missing Permissions" (also: the role is above the bot's).
pub const MISSING_PERMISSIONS: i64 = 50013;
pub const UNKNOWN_MEMBER: i64 = 10007;
pub const UNKNOWN_ROLE: i64 = 10011;

#[derive(Deserialize)]
struct Member {
    user: User,
    #[serde(default)]
    nick: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: String,
    #[serde(default)]
    global_name: Option<String>,
}

impl DiscordRest {
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.base))
            .timeout(self.timeout);
        if let Some(auth) = &self.authorization {
            r = r.header(AUTHORIZATION, auth);
        }
        r
    }

    /// Adds (`grant`) or removes a member's role. `reason` goes to the server's audit log.
    pub async fn member_role(
        &self,
        grant: bool,
        guild: u64,
        user: u64,
        role: u64,
        reason: &str,
    ) -> Result<(), PostError> {
        let method = if grant { Method::PUT } else { Method::DELETE };
        let path = format!("/api/v10/guilds/{guild}/members/{user}/roles/{role}");
        // Percent-encoded as Discord expects (a literal `+` is already `%2B`).
        let reason: String = form_urlencoded::byte_serialize(reason.as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        let response = self
            .request(method, &path)
            .header("X-Audit-Log-Reason", reason)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        interpret(status, &headers, &body).map(|_| ())
    }

    /// The member a buyer named, if exactly one member of the server matches.
    pub async fn find_member(
        &self,
        guild: u64,
        name: &DiscordName,
    ) -> Result<Option<u64>, PostError> {
        let path = match name {
            DiscordName::Id(id) => format!("/api/v10/guilds/{guild}/members/{id}"),
            DiscordName::Name(n) => {
                let q: String = form_urlencoded::byte_serialize(n.as_bytes()).collect();
                format!("/api/v10/guilds/{guild}/members/search?query={q}&limit=10")
            }
        };
        let response = self
            .request(Method::GET, &path)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        match interpret(status, &headers, &body) {
            Ok(_) => {}
            Err(PostError::Refused { code, .. }) if code == UNKNOWN_MEMBER => return Ok(None),
            Err(PostError::Refused { status: 404, .. }) => return Ok(None),
            Err(e) => return Err(e),
        }
        let members: Vec<Member> = match name {
            DiscordName::Id(_) => serde_json::from_slice::<Member>(&body)
                .map(|m| vec![m])
                .unwrap_or_default(),
            DiscordName::Name(_) => serde_json::from_slice(&body).unwrap_or_default(),
        };
        let matching: Vec<u64> = members
            .iter()
            .filter(|m| match name {
                DiscordName::Id(id) => m.user.id == id.to_string(),
                DiscordName::Name(n) => {
                    let same = |s: &str| s.to_lowercase() == *n;
                    same(&m.user.username)
                        || m.user.global_name.as_deref().is_some_and(same)
                        || m.nick.as_deref().is_some_and(same)
                }
            })
            .filter_map(|m| m.user.id.parse().ok())
            .collect();
        Ok(match matching.as_slice() {
            [one] => Some(*one),
            _ => None,
        })
    }

    /// A plain line in a channel (the staff log), mentioning nobody.
    pub async fn post_text(&self, channel: u64, text: &str) -> Result<(), PostError> {
        let body = serde_json::json!({
            "content": text,
            "allowed_mentions": { "parse": [] },
        });
        let response = self
            .request(
                Method::POST,
                &format!("/api/v10/channels/{channel}/messages"),
            )
            .json(&body)
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        interpret(status, &headers, &body).map(|_| ())
    }
}
