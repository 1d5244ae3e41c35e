//! `/config set`: one key changed in the seller's file, every other key kept as it was.

use std::path::Path;

use serde_json::Value;

use super::load::{ConfigError, Problem};
use super::schema::Config;

/// Keys `/config set` may change; everything else is edited in the file.
pub const EDITABLE_KEYS: [&str; 14] = [
    "discordConfig.salesChannelId",
    "discordConfig.refundsChannelId",
    "discordConfig.subscriptionsChannelId",
    "payhipConfig.eventTypes.newSale",
    "payhipConfig.eventTypes.refund",
    "payhipConfig.eventTypes.subscriptions",
    "xsollaConfig.eventTypes.newSale",
    "xsollaConfig.eventTypes.refund",
    "xsollaConfig.eventTypes.subscriptions",
    "embedColors.newSale",
    "embedColors.refund",
    "embedColors.subscription",
    "privacy.showCustomer",
    "xsollaConfig.announceSubscriptionUpdates",
];

/// Sets `key` to `value` in the file's JSON, keeping every other key (known or not) as it was,
/// and returns the new text after checking that the whole file is still valid.
pub fn edit(original: &str, key: &str, value: &str) -> Result<(String, Config), Vec<Problem>> {
    let problem = |message: String| {
        vec![Problem {
            path: key.to_owned(),
            message,
        }]
    };
    if !EDITABLE_KEYS.contains(&key) {
        return Err(problem(format!(
            "cannot be changed from Discord; editable keys: {}",
            EDITABLE_KEYS.join(", ")
        )));
    }
    let mut root: Value = serde_json::from_str(original)
        .map_err(|e| problem(format!("config.json is not valid JSON: {e}")))?;
    let is_bool =
        key.contains(".eventTypes.") || key.starts_with("privacy.") || key.ends_with("Updates");
    let new_value = if is_bool {
        match value.trim().to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Value::Bool(true),
            "false" | "off" | "no" => Value::Bool(false),
            other => return Err(problem(format!("expected true or false, found {other:?}"))),
        }
    } else {
        Value::String(value.trim().to_owned())
    };
    let mut node = &mut root;
    let parts: Vec<&str> = key.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        if !node.is_object() {
            return Err(problem(
                "the file has a non-object where a section is expected".into(),
            ));
        }
        node = node
            .as_object_mut()
            .map(|o| {
                o.entry(part.to_string())
                    .or_insert_with(|| Value::Object(Default::default()))
            })
            .ok_or_else(|| problem("unexpected file shape".into()))?;
    }
    match node.as_object_mut() {
        Some(o) => {
            o.insert(parts[parts.len() - 1].to_owned(), new_value);
        }
        None => {
            return Err(problem(
                "the file has a non-object where a section is expected".into(),
            ))
        }
    }
    let text = serde_json::to_string_pretty(&root).map_err(|e| problem(e.to_string()))?;
    match Config::from_json(&text) {
        Ok(config) => Ok((text + "\n", config)),
        Err(ConfigError::Invalid(p)) => Err(p),
        Err(e) => Err(problem(e.to_string())),
    }
}

/// Replaces the file in one step (write beside it, then rename), so a crash never leaves half a
/// config behind.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Color;

    #[test]
    fn edits_keep_unknown_keys_and_validate() {
        let original = r##"{"custom": {"keep": 1}, "embedColors": {"refund": "#FF0000"}}"##;
        let (text, config) = edit(original, "embedColors.newSale", "#112233").unwrap();
        assert!(text.contains("\"keep\": 1"));
        assert_eq!(config.embed_colors.new_sale, Color(0x112233));
        let (_, config) = edit(&text, "payhipConfig.eventTypes.refund", "off").unwrap();
        assert!(!config.payhip_config.event_types.refund);
        let err = edit(original, "embedColors.newSale", "green").unwrap_err();
        assert_eq!(err[0].path, "embedColors.newSale");
        assert!(edit(original, "databaseConfig.url", "x").is_err());
    }
}
