//! The one shared state: axum's `State` and poise's `Data`. Cheap to clone.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use tokio::sync::Notify;

use crate::config::{Config, Settings};
use crate::db::writer::Writer;
use crate::db::Store;
use crate::providers::Provider;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    writer: Writer,
    config: RwLock<Arc<Config>>,
    settings: Settings,
    providers: Vec<Arc<dyn Provider>>,
    outbox_wakeup: Arc<Notify>,
    started: Instant,
}

impl AppState {
    pub fn new(
        settings: Settings,
        store: Store,
        writer: Writer,
        providers: Vec<Arc<dyn Provider>>,
        outbox_wakeup: Arc<Notify>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                writer,
                config: RwLock::new(Arc::new(settings.config.clone())),
                settings,
                providers,
                outbox_wakeup,
                started: Instant::now(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn writer(&self) -> &Writer {
        &self.inner.writer
    }

    /// The current config; a snapshot, so one request sees one consistent version.
    pub fn config(&self) -> Arc<Config> {
        match self.inner.config.read() {
            Ok(c) => Arc::clone(&c),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Swaps in a new config (after `/config set` or an edit of the file).
    pub fn replace_config(&self, config: Config) {
        let mut guard = match self.inner.config.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = Arc::new(config);
    }

    /// Start-up settings: secrets, database URL, Discord base. Not changed at run time.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.inner.providers
    }

    pub fn outbox_wakeup(&self) -> &Arc<Notify> {
        &self.inner.outbox_wakeup
    }

    /// The name sellers know a provider by ("Payhip"), for embeds and templates.
    pub fn provider_label(&self, name: &str) -> String {
        self.inner
            .providers
            .iter()
            .find(|p| p.name() == name)
            .map_or_else(|| name.to_owned(), |p| p.display_name().to_owned())
    }

    pub fn uptime(&self) -> std::time::Duration {
        self.inner.started.elapsed()
    }
}
