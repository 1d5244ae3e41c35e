//! Start-up wiring and orderly shutdown. `anyhow` lives here and in the CLI only.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::db::writer::Writer;
use crate::db::Store;
use crate::discord::rest::DiscordRest;
use crate::outbox::{self, worker::Worker};
use crate::providers;
use crate::state::AppState;
use crate::webhook;

/// A started app. Dropping it does not stop it; call [`Running::stop`] or cancel its token.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests, flushes the writer and closes the pool.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("the app task panicked")?
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// Connects the database, binds the webhook port and starts every loop.
pub async fn start(settings: Settings) -> anyhow::Result<Running> {
    for warning in settings.config.warnings() {
        tracing::warn!("{warning}");
    }
    if let Some(base) = &settings.discord_api_base {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            anyhow::bail!("DISCORD_API_BASE / discordConfig.apiBaseUrl must be an http(s) URL like \"http://127.0.0.1:8080\"");
        }
    }
    let store = Store::connect(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the database ({})",
                redact_url(&settings.database_url)
            )
        })?;
    tracing::info!(
        backend = store.backend_name(),
        "database ready, migrations applied"
    );

    let wakeup = Arc::new(Notify::new());
    let writer_stop = CancellationToken::new();
    let (writer, writer_task) =
        Writer::spawn(store.clone(), Arc::clone(&wakeup), writer_stop.clone());
    let providers = providers::registry(&settings.secrets);
    for p in &providers {
        if let Some(hint) = p.missing_secret_hint() {
            tracing::warn!(provider = p.name(), "{hint}");
        }
    }
    let wc = &settings.config.webhook_config;
    let bind = SocketAddr::new(wc.bind_address, wc.webhook_port);
    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!("cannot listen on {bind} (webhookConfig.bindAddress / webhookPort)")
    })?;
    let addr = listener.local_addr()?;

    let rest = DiscordRest::new(
        settings.discord_api_base.as_deref(),
        settings.secrets.discord_token.as_ref(),
    )
    .context("cannot set up the HTTP client for Discord")?;
    let state = AppState::new(settings, store.clone(), writer, providers, wakeup);
    let router = webhook::router(state.clone());
    let config = state.config();
    outbox::log_routing(&config, state.providers());
    let worker = Worker::new(state.clone(), rest);
    if worker.preview() {
        tracing::warn!("no DISCORD_TOKEN: channel notices are printed here instead of posted (preview mode); webhook URLs are still posted");
    }
    let shutdown = CancellationToken::new();
    let worker_task = tokio::spawn(worker.run(shutdown.child_token()));
    let commands = state.config().discord_config.commands_enabled();
    if !commands {
        tracing::info!("slash commands are off on this instance (discordConfig.commands: false)");
    }
    let bot_task = state.settings().secrets.discord_token.clone().filter(|_| commands).map(|token| {
        let (state, stop) = (state.clone(), shutdown.child_token());
        tokio::spawn(async move {
            // Intake and delivery go on without the gateway; only commands need it.
            if let Err(e) = crate::discord::bot::run(state, token, stop).await {
                tracing::error!("Discord gateway stopped: {e} (commands are unavailable; webhooks and notices still work)");
            }
        })
    });
    if let Some(path) = state.settings().config_path.clone() {
        tokio::spawn(watch_config(state.clone(), path, shutdown.child_token()));
    }
    for p in state.providers() {
        tracing::info!(
            provider = p.name(),
            "webhook endpoint: http://{addr}{}",
            p.route(&config)
        );
    }
    tracing::info!("listening on {addr}");

    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(token.cancelled_owned())
            .await;
        // Every request has had its reply by now; the writer commits anything queued and ends.
        writer_stop.cancel();
        let _ = writer_task.await;
        // The worker finishes the post in flight; undelivered rows stay queued for next start.
        let _ = worker_task.await;
        if let Some(bot) = bot_task {
            let _ = bot.await;
        }
        store.close().await;
        tracing::info!("stopped");
        served.context("the webhook server failed")
    });
    Ok(Running {
        addr,
        state,
        shutdown,
        task,
    })
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // Listen before starting: a signal that arrives while the app starts is kept, not fatal.
    let signals = Signals::install().context("cannot listen for SIGINT/SIGTERM")?;
    let running = start(settings).await?;
    let token = running.shutdown_token();
    tokio::spawn(async move {
        signals.wait().await;
        tracing::info!("shutting down: finishing in-flight requests");
        token.cancel();
    });
    running.wait().await
}

#[cfg(unix)]
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn install() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn wait(self) {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A database URL without its password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Picks up hand edits of config.json without a restart. A file that no longer validates is
/// reported and ignored; the running config stays. Webhook paths and the port need a restart.
async fn watch_config(state: AppState, path: std::path::PathBuf, stop: CancellationToken) {
    let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut seen = modified(&path);
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        let now = modified(&path);
        if now == seen {
            continue;
        }
        seen = now;
        match crate::config::Config::load(&path) {
            Ok(config) => {
                state.replace_config(config);
                tracing::info!(path = %path.display(), "config reloaded");
            }
            Err(e) => tracing::warn!("config.json changed but was not applied: {e}"),
        }
    }
}
