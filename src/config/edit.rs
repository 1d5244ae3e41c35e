//! `/config set`: one key changed in the seller's file, everything else left where it was. The
//! seller's key order and keys this bot does not know survive (serde_json keeps insertion order
//! here), the new file replaces the old in one step that survives a power cut, and edits are
//! applied one at a time so two at once cannot lose one of them.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;

use super::load::{ConfigError, Problem};
use super::schema::Config;

/// What a key holds, which decides how the text typed in Discord is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A Discord channel id, or `<#id>` as Discord writes a channel picked with `#`.
    Channel,
    /// On or off.
    Switch,
    /// A color like `#00FF00`.
    Color,
}

/// Keys `/config set` may change, with what each holds; everything else is edited in the file.
const KEYS: [(&str, KeyKind); 14] = [
    ("discordConfig.salesChannelId", KeyKind::Channel),
    ("discordConfig.refundsChannelId", KeyKind::Channel),
    ("discordConfig.subscriptionsChannelId", KeyKind::Channel),
    ("payhipConfig.eventTypes.newSale", KeyKind::Switch),
    ("payhipConfig.eventTypes.refund", KeyKind::Switch),
    ("payhipConfig.eventTypes.subscriptions", KeyKind::Switch),
    ("xsollaConfig.eventTypes.newSale", KeyKind::Switch),
    ("xsollaConfig.eventTypes.refund", KeyKind::Switch),
    ("xsollaConfig.eventTypes.subscriptions", KeyKind::Switch),
    ("embedColors.newSale", KeyKind::Color),
    ("embedColors.refund", KeyKind::Color),
    ("embedColors.subscription", KeyKind::Color),
    ("privacy.showCustomer", KeyKind::Switch),
    ("xsollaConfig.announceSubscriptionUpdates", KeyKind::Switch),
];

/// The names of the keys `/config set` may change, for its autocompletion and its error text.
pub const EDITABLE_KEYS: [&str; KEYS.len()] = {
    let mut out = [""; KEYS.len()];
    let mut i = 0;
    while i < KEYS.len() {
        out[i] = KEYS[i].0;
        i += 1;
    }
    out
};

pub fn kind_of(key: &str) -> Option<KeyKind> {
    KEYS.iter().find(|(k, _)| *k == key).map(|(_, kind)| *kind)
}

/// The JSON value `text` stands for in a key of `kind`, or what was expected.
fn read_value(kind: KeyKind, text: &str) -> Result<Value, String> {
    let text = text.trim();
    match kind {
        KeyKind::Switch => match text.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" => Ok(Value::Bool(true)),
            "false" | "off" | "no" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "expected true or false (or on/off), found {text:?}"
            )),
        },
        // A channel picked with `#` in Discord arrives as `<#id>`.
        KeyKind::Channel => Ok(Value::String(
            text.strip_prefix("<#")
                .and_then(|t| t.strip_suffix('>'))
                .unwrap_or(text)
                .to_owned(),
        )),
        KeyKind::Color => Ok(Value::String(text.to_owned())),
    }
}

/// Sets `key` to `value` in the file's JSON, keeping every other key (known or not) as it was,
/// and returns the new text after checking that the whole file is still valid.
pub fn edit(original: &str, key: &str, value: &str) -> Result<(String, Config), Vec<Problem>> {
    let problem = |message: String| {
        vec![Problem {
            path: key.to_owned(),
            message,
        }]
    };
    let Some(kind) = kind_of(key) else {
        return Err(problem(format!(
            "cannot be changed from Discord; editable keys: {}",
            EDITABLE_KEYS.join(", ")
        )));
    };
    let new_value = read_value(kind, value).map_err(problem)?;
    let mut root: Value = serde_json::from_str(original)
        .map_err(|e| problem(format!("config.json is not valid JSON: {e}")))?;
    let mut node = &mut root;
    let (sections, last) = key.rsplit_once('.').unwrap_or(("", key));
    for part in sections.split('.').filter(|p| !p.is_empty()) {
        node = node
            .as_object_mut()
            .map(|o| {
                o.entry(part.to_owned())
                    .or_insert_with(|| Value::Object(Default::default()))
            })
            .ok_or_else(|| {
                problem("the file has a non-object where a section is expected".into())
            })?;
    }
    node.as_object_mut()
        .ok_or_else(|| problem("the file has a non-object where a section is expected".into()))?
        .insert(last.to_owned(), new_value);
    let text = serde_json::to_string_pretty(&root).map_err(|e| problem(e.to_string()))?;
    match Config::from_json(&text) {
        Ok(config) => Ok((text + "\n", config)),
        Err(ConfigError::Invalid(p)) => Err(p),
        Err(e) => Err(problem(e.to_string())),
    }
}

/// Why a `/config set` was not applied.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// The value, or the file it would make, is refused; the text is meant for the seller.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<Problem>),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SetError {
    /// The text to show whoever asked for the change; None when the cause is the bot's own (the
    /// file cannot be read or written) and belongs in its log instead.
    pub fn for_user(&self) -> Option<String> {
        match self {
            SetError::Refused(_) => Some(self.to_string()),
            SetError::Read { .. } | SetError::Write { .. } => None,
        }
    }
}

/// Held from reading the file to writing it back: edits made at the same moment each see the
/// other's result instead of one overwriting the other.
static ONE_WRITER: Mutex<()> = Mutex::new(());

/// Changes one key of the file at `path`. `refuse` sees the config the file would hold and may
/// say why it must not be written; `apply` gets it once it is on disk, still inside the lock, so
/// the running config follows the file in the order edits were made.
pub fn set(
    path: &Path,
    key: &str,
    value: &str,
    refuse: impl FnOnce(&Config) -> Option<String>,
    apply: impl FnOnce(Config),
) -> Result<(), SetError> {
    let _one_writer = ONE_WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let original = std::fs::read_to_string(path).map_err(|source| SetError::Read {
        path: path.to_owned(),
        source,
    })?;
    let (text, config) = edit(&original, key, value).map_err(SetError::Refused)?;
    if let Some(reason) = refuse(&config) {
        return Err(SetError::Refused(vec![Problem {
            path: key.to_owned(),
            message: reason,
        }]));
    }
    write_atomically(path, &text).map_err(|source| SetError::Write {
        path: path.to_owned(),
        source,
    })?;
    apply(config);
    Ok(())
}

/// Replaces the file in one step: the new text is written and flushed to disk beside it, renamed
/// over it, and the folder flushed too, so a crash or power cut leaves the old file or the new
/// one, never half of one. The file keeps its permissions; a symbolic link keeps pointing at it.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".config.json.")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(&target) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(&target).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// Makes the rename itself durable. Only Unix lets a folder be opened and flushed.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
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

    #[test]
    fn the_sellers_key_order_is_kept() {
        let original = r#"{
  "webhookConfig": { "webhookPort": 3000 },
  "zzz": true,
  "discordConfig": { "timezone": "UTC", "salesChannelId": "", "botActivity": "x" },
  "aaa": [1, 2]
}"#;
        let (text, _) = edit(original, "discordConfig.salesChannelId", "<#42>").unwrap();
        let at = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle} in {text}"))
        };
        assert!(at("webhookConfig") < at("zzz") && at("zzz") < at("discordConfig"));
        assert!(at("discordConfig") < at("aaa"));
        assert!(
            at("timezone") < at("\"salesChannelId\": \"42\"")
                && at("salesChannel") < at("botActivity")
        );
    }

    #[test]
    fn every_switch_is_read_as_on_or_off_and_nothing_else() {
        for key in EDITABLE_KEYS {
            if kind_of(key) == Some(KeyKind::Switch) {
                let (_, config) = edit("{}", key, "on").unwrap();
                let (_, off) = edit("{}", key, "no").unwrap();
                assert_ne!(format!("{config:?}"), format!("{off:?}"), "{key}");
                assert!(edit("{}", key, "maybe").is_err(), "{key}");
            }
        }
    }

    #[test]
    fn the_file_is_replaced_whole_with_its_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{}").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        }
        let mut applied = None;
        set(
            &path,
            "privacy.showCustomer",
            "on",
            |_| None,
            |c| applied = Some(c),
        )
        .unwrap();
        assert!(applied.is_some_and(|c| c.privacy.show_customer));
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("\"showCustomer\": true"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o640);
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");

        let err = set(
            &path,
            "privacy.showCustomer",
            "off",
            |_| Some("no".into()),
            |_| panic!("a refused edit is not applied"),
        )
        .unwrap_err();
        assert!(matches!(err, SetError::Refused(_)));
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("\"showCustomer\": true"));
    }
}
