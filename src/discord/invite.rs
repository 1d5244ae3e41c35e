//! The link a seller opens to add the bot to a server. Sellers got lost here with the JavaScript
//! bot (which scopes, which permission boxes), so the binary prints the exact link itself.

use base64::Engine as _;

/// View Channels (1 << 10), Send Messages (1 << 11), Embed Links (1 << 14), Attach Files (1 << 15)
/// and Read Message History (1 << 16): posting notices with embeds, the `/stats` chart and the CSV
/// export, and reading back a channel to check whether a notice already arrived.
pub const PERMISSIONS: u64 = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16);

/// Manage Roles (1 << 28), added when the seller set up `roles`: giving and taking buyers' roles.
pub const MANAGE_ROLES: u64 = 1 << 28;

/// `bot` puts the bot in the server; `applications.commands` lets it register slash commands.
pub const SCOPES: &str = "bot%20applications.commands";

/// The application (client) id a bot token belongs to. A token's first dot-separated part is the
/// bot user's id in base64, and a bot user's id is its application's id.
pub fn client_id_from_token(token: &str) -> Option<u64> {
    let first = token.trim().split('.').next()?;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine
        .decode(first)
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(first))
        .ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

pub fn invite_url(client_id: u64) -> String {
    invite_url_for(client_id, false)
}

/// The link, with Manage Roles when the bot gives buyers roles.
pub fn invite_url_for(client_id: u64, roles: bool) -> String {
    let permissions = if roles {
        PERMISSIONS | MANAGE_ROLES
    } else {
        PERMISSIONS
    };
    format!(
        "https://discord.com/oauth2/authorize?client_id={client_id}&scope={SCOPES}&permissions={permissions}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_id_is_read_from_the_token() {
        // "MTIzNDU2Nzg5MDEyMzQ1Njc4" is base64 of "123456789012345678".
        let token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE.not-a-real-secret-part";
        assert_eq!(client_id_from_token(token), Some(123_456_789_012_345_678));
        assert_eq!(client_id_from_token("garbage"), None);
        assert_eq!(client_id_from_token(""), None);
    }

    #[test]
    fn roles_add_manage_roles() {
        assert!(invite_url_for(42, true).ends_with("&permissions=268553216"));
    }

    #[test]
    fn the_invite_asks_for_exactly_what_the_bot_uses() {
        assert_eq!(PERMISSIONS, 117_760);
        assert_eq!(
            invite_url(42),
            "https://discord.com/oauth2/authorize?client_id=42&scope=bot%20applications.commands&permissions=117760"
        );
    }
}
