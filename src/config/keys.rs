//! Keys nobody reads. A misspelt key ("salesChanelId", `"refunds": false`) would otherwise take
//! its default without a word, and the seller would wonder why refunds are still posted.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::load::Problem;
use super::schema::Config;

/// Keys the bot reads that the default config does not print (they are skipped when unset).
const UNPRINTED: [&str; 7] = [
    "payhipConfig.webhookPath",
    "xsollaConfig.webhookPath",
    "payhipConfig.forwardUrl",
    "payhipConfig.forwardTimeoutMs",
    "xsollaConfig.forwardUrl",
    "xsollaConfig.forwardTimeoutMs",
    "databaseConfig.maxSales",
];

/// Every key the bot knows, as the tree of the default config: derived from the schema itself,
/// so a new field is known without a list to keep up to date.
static KNOWN: LazyLock<Value> = LazyLock::new(|| {
    let mut tree = serde_json::to_value(Config::default()).unwrap_or_default();
    // The table's stores have the same optional keys as Payhip's and Xsolla's sections.
    let store_keys: Vec<String> = super::table::tabled()
        .flat_map(|s| {
            ["webhookPath", "forwardUrl", "forwardTimeoutMs"].map(|k| format!("{}.{k}", s.section))
        })
        // Every section may route its notices (its entries are checked when read).
        .chain(
            super::table::STORES
                .iter()
                .flat_map(|s| ["notify", "products"].map(|k| format!("{}.{k}", s.section))),
        )
        .collect();
    for path in UNPRINTED
        .iter()
        .copied()
        .chain(store_keys.iter().map(String::as_str))
    {
        let mut node = &mut tree;
        let (sections, last) = path.rsplit_once('.').unwrap_or(("", path));
        for part in sections.split('.') {
            node = &mut node[part];
        }
        node[last] = Value::Null;
    }
    tree
});

/// Every key path the bot knows, for suggesting where a key put in the wrong section belongs.
static KNOWN_PATHS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut out = Vec::new();
    collect(&KNOWN, "", &mut out);
    out
});

fn collect(node: &Value, prefix: &str, out: &mut Vec<String>) {
    if let Value::Object(map) = node {
        for (key, child) in map {
            let path = join(prefix, key);
            collect(child, &path, out);
            out.push(path);
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The keys of one entry of the `stores` list: a section's, and the entry's own.
static KNOWN_LISTED: LazyLock<Value> = LazyLock::new(|| {
    let mut tree = serde_json::to_value(super::ListedStore::default()).unwrap_or_default();
    for key in [
        "secretEnv",
        "webhookPath",
        "forwardUrl",
        "forwardTimeoutMs",
        "notify",
        "products",
    ] {
        tree[key] = Value::Null;
    }
    tree
});

/// One problem per key in `root` that the bot does not read, with the nearest known key.
pub fn unknown_keys(root: &Map<String, Value>) -> Vec<Problem> {
    let mut out = Vec::new();
    let Value::Object(known) = &*KNOWN else {
        return out;
    };
    walk(root, known, "", &mut out);
    if let (Some(Value::Array(stores)), Value::Object(listed)) =
        (root.get("stores"), &*KNOWN_LISTED)
    {
        for (i, store) in stores.iter().enumerate() {
            if let Value::Object(store) = store {
                walk(store, listed, &format!("stores[{i}]"), &mut out);
            }
        }
    }
    out
}

fn walk(
    given: &Map<String, Value>,
    known: &Map<String, Value>,
    prefix: &str,
    out: &mut Vec<Problem>,
) {
    for (key, value) in given {
        let path = join(prefix, key);
        match known.get(key) {
            Some(Value::Object(inner)) => {
                if let Value::Object(given_inner) = value {
                    walk(given_inner, inner, &path, out);
                }
            }
            Some(_) => {}
            None => out.push(Problem {
                message: unknown(key, known, prefix),
                path,
            }),
        }
    }
}

fn unknown(key: &str, siblings: &Map<String, Value>, prefix: &str) -> String {
    if let Some(near) = nearest(key, siblings.keys().map(String::as_str)) {
        return format!("unknown key; did you mean {near}?");
    }
    // The right name in the wrong section: point at where it belongs.
    let elsewhere = KNOWN_PATHS.iter().find(|path| {
        let last = path.rsplit('.').next().unwrap_or(path);
        close(key, last) && path.rsplit_once('.').map_or("", |(p, _)| p) != prefix
    });
    match elsewhere {
        Some(path) => format!("unknown key here; did you mean {path}?"),
        None => {
            let names: Vec<&str> = siblings.keys().map(String::as_str).collect();
            format!("unknown key; the keys here are {}", names.join(", "))
        }
    }
}

/// The closest of `candidates` to `key`, if one is close enough to be a typo of it.
fn nearest<'a>(key: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .filter(|c| close(key, c))
        .min_by_key(|c| distance(key, c))
}

fn distance(a: &str, b: &str) -> usize {
    strsim::damerau_levenshtein(&a.to_lowercase(), &b.to_lowercase())
}

/// A typo: a few letters off, in proportion to the key's length; or the same but for case.
fn close(key: &str, candidate: &str) -> bool {
    distance(key, candidate) <= (key.chars().count() / 4).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(json: &str) -> Vec<String> {
        let Value::Object(root) = serde_json::from_str(json).unwrap() else {
            panic!("object")
        };
        unknown_keys(&root)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn typos_get_the_nearest_key() {
        assert_eq!(
            messages(r#"{ "discordConfig": { "salesChanelId": "1" } }"#),
            ["discordConfig.salesChanelId: unknown key; did you mean salesChannelId?"]
        );
        assert_eq!(
            messages(r#"{ "payhipConfig": { "eventTypes": { "refunds": false } } }"#),
            ["payhipConfig.eventTypes.refunds: unknown key; did you mean refund?"]
        );
        assert_eq!(
            messages(r#"{ "webhookConfig": { "webhookUrl": "https://x" } }"#),
            ["webhookConfig.webhookUrl: unknown key; did you mean webhookURL?"]
        );
    }

    #[test]
    fn a_misspelt_key_of_a_listed_store_is_named() {
        let mut said = messages(
            r#"{ "stores": [ { "name": "eu", "provider": "payhip", "secretEnv": "K",
                               "notfy": {}, "eventTypes": { "refunds": false } } ] }"#,
        );
        said.sort();
        assert_eq!(
            said,
            [
                "stores[0].eventTypes.refunds: unknown key; did you mean refund?",
                "stores[0].notfy: unknown key; did you mean notify?"
            ]
        );
    }

    #[test]
    fn a_key_in_the_wrong_section_is_pointed_home() {
        assert_eq!(
            messages(r#"{ "discordConfig": { "webhookPort": 3000 } }"#),
            ["discordConfig.webhookPort: unknown key here; did you mean webhookConfig.webhookPort?"]
        );
    }

    #[test]
    fn nothing_close_lists_the_keys_of_that_section() {
        let m = messages(r#"{ "privacy": { "hideEverything": true } }"#);
        assert_eq!(
            m,
            ["privacy.hideEverything: unknown key; the keys here are showCustomer"]
        );
    }

    #[test]
    fn every_key_the_bot_reads_is_known() {
        let example = include_str!("../../config.json.example");
        assert_eq!(messages(example), Vec::<String>::new());
        let legacy = r#"{ "databaseConfig": { "maxSales": 200 },
                          "payhipConfig": { "webhookPath": "/p" },
                          "xsollaConfig": { "webhookPath": "/x", "forwardUrl": "http://g",
                                            "forwardTimeoutMs": 500 },
                          "webhookConfig": { "metricsAddr": "127.0.0.1:1" },
                          "notifications": { "refund": { "message": "x", "webhookUrls": [] } } }"#;
        assert_eq!(messages(legacy), Vec::<String>::new());
    }
}
