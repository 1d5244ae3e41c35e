//! A store of the `stores` list: its provider's code, verifying with the store's own secret,
//! served at the store's own path, and each event kept under the store's name, so that two
//! accounts of one provider never share an id, a roll-up or a notice route.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};

use super::{Provider, ProviderError, Reply, Stored};
use crate::config::{Config, ProviderConfig};
use crate::domain::Event;

/// What a listed store's section means once a reload has removed it: defaults, until restart.
static DEFAULT: LazyLock<ProviderConfig> = LazyLock::new(ProviderConfig::default);

pub struct Listed {
    name: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    inner: Arc<dyn Provider>,
}

impl Listed {
    /// `inner` is the provider already built with this store's secret.
    pub fn new(name: &str, secret_var: &str, inner: Arc<dyn Provider>) -> Self {
        let label = if name == inner.name() {
            inner.display_name()
        } else {
            intern(format!("{} ({name})", inner.display_name()))
        };
        let hint = inner.missing_secret_hint().map(|_| {
            intern(format!(
                "store {name:?}: {secret_var} is not set, so its webhooks are refused (503)"
            ))
        });
        Self {
            name: intern(name.to_owned()),
            label,
            hint,
            inner,
        }
    }
}

/// The `&'static str` the provider seam asks for, made once per text: stores are read at
/// start-up, so this holds a handful of short names for the life of the process.
fn intern(text: String) -> &'static str {
    static SEEN: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    let mut seen = match SEEN.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    if let Some(known) = seen.get(text.as_str()) {
        return known;
    }
    let leaked: &'static str = Box::leak(text.into_boxed_str());
    seen.insert(leaked);
    leaked
}

impl Provider for Listed {
    fn name(&self) -> &'static str {
        self.name
    }

    fn kind(&self) -> &'static str {
        self.inner.name()
    }

    fn display_name(&self) -> &'static str {
        self.label
    }

    fn route(&self, config: &Config) -> String {
        config
            .listed_store(self.name)
            .map_or_else(|| format!("/webhook/{}", self.name), |s| s.route(config))
    }

    fn settings<'a>(&self, config: &'a Config) -> &'a ProviderConfig {
        config
            .listed_store(self.name)
            .map_or(&DEFAULT, |s| &s.settings)
    }

    fn parse(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        received_at: DateTime<Utc>,
    ) -> Result<Event, ProviderError> {
        let mut event = self.inner.parse(headers, body, received_at)?;
        event.provider = self.name.to_owned();
        Ok(event)
    }

    fn accepted(&self, stored: Stored, event: &Event) -> Reply {
        self.inner.accepted(stored, event)
    }

    fn rejected(&self, error: &ProviderError) -> Reply {
        self.inner.rejected(error)
    }

    fn stored_body(&self, body: &[u8]) -> String {
        self.inner.stored_body(body)
    }

    fn signs_tests(&self) -> bool {
        self.inner.signs_tests()
    }

    fn relayed_headers(&self) -> &'static [&'static str] {
        self.inner.relayed_headers()
    }

    fn missing_secret_hint(&self) -> Option<&'static str> {
        self.hint
    }
}
