//! A channel message with one file attached (a digest's chart). Discord takes the message as
//! `payload_json` beside the file in a multipart body; it is built by hand because it is one
//! fixed shape and needs no extra dependency.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::json;

use super::{DiscordRest, PostError, Posted};
use crate::notice::message::Message;

/// Never found in JSON or a PNG by chance: long, and made of characters neither needs together.
const BOUNDARY: &str = "integrations-bot-4f1c9a2e7d5b3806";

impl DiscordRest {
    /// Posts `message` to `channel` with `bytes` attached as `file_name` (a PNG), shown as the
    /// first embed's image.
    pub async fn post_with_image(
        &self,
        channel: u64,
        message: &Message,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<Posted, PostError> {
        let body = multipart(&payload(message, file_name), file_name, bytes);
        let url = format!("{}/api/v10/channels/{channel}/messages", self.base);
        let mut request = self
            .client
            .post(url)
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body);
        if let Some(auth) = &self.authorization {
            request = request.header(AUTHORIZATION, auth);
        }
        self.send_post(request).await
    }
}

/// The message JSON naming the attachment, and the first embed showing it.
fn payload(message: &Message, file_name: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(message).unwrap_or_default();
    v["attachments"] = json!([{ "id": 0, "filename": file_name }]);
    if let Some(embed) = v["embeds"].get_mut(0) {
        embed["image"] = json!({ "url": format!("attachment://{file_name}") });
    }
    v
}

fn multipart(payload: &serde_json::Value, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(bytes.len() + 4096);
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\
             Content-Type: application/json\r\n\r\n{payload}\r\n--{BOUNDARY}\r\n\
             Content-Disposition: form-data; name=\"files[0]\"; filename=\"{file_name}\"\r\n\
             Content-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::message::{AllowedMentions, Embed};

    #[test]
    fn the_body_holds_the_message_and_the_file_with_the_embed_pointing_at_it() {
        let m = Message {
            content: None,
            embeds: vec![Embed::default()],
            allowed_mentions: AllowedMentions::default(),
            nonce: Some("n1".into()),
            enforce_nonce: Some(true),
        };
        let body = multipart(&payload(&m, "chart.png"), "chart.png", b"\x89PNG");
        let text = String::from_utf8_lossy(&body);
        let json_part = text
            .split("\r\n\r\n")
            .nth(1)
            .and_then(|p| p.split("\r\n--").next())
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(json_part).unwrap();
        assert_eq!(v["nonce"], "n1");
        assert_eq!(v["embeds"][0]["image"]["url"], "attachment://chart.png");
        assert_eq!(v["attachments"][0]["filename"], "chart.png");
        assert!(text.contains("name=\"files[0]\"; filename=\"chart.png\""));
        assert!(text.ends_with(&format!("\r\n--{BOUNDARY}--\r\n")));
    }
}
