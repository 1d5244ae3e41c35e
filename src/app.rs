//! Start-up wiring and orderly shutdown. `anyhow` lives here and in the CLI only.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::{Clock, SystemClock};
pub use crate::config::redact_url;
use crate::config::Settings;
use crate::db::writer::Writer;
use crate::db::Store;
use crate::discord::rest::DiscordRest;
use crate::metrics;
use crate::outbox::{self, worker::Worker};
use crate::providers;
use crate::reload;
use crate::serve;
use crate::state::AppState;
use crate::webhook;

/// A started app. Dropping it does not stop it; call [`Running::stop`] or cancel its token.
pub struct Running {
    pub addr: SocketAddr,
    /// Where `/metrics` is served apart from the public port (`webhookConfig.metricsAddr`).
    pub metrics_addr: Option<SocketAddr>,
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
    start_with_clock(settings, Arc::new(SystemClock)).await
}

/// [`start`] on a given clock: tests pass a [`crate::clock::ManualClock`] to drive time.
pub async fn start_with_clock(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    for warning in settings.config.warnings() {
        tracing::warn!("{warning}");
    }
    for key in settings.config.unknown_keys() {
        tracing::warn!("{key} (ignored; `integrations-bot check-config` fails on it)");
    }
    if let Some(base) = &settings.discord_api_base {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            anyhow::bail!("DISCORD_API_BASE / discordConfig.apiBaseUrl must be an http(s) URL like \"http://127.0.0.1:8080\"");
        }
    }
    let store = match Store::connect(&settings.database_url).await {
        Ok(store) => store,
        Err(e) => {
            anyhow::bail!(crate::check::database::why_not_opened(&settings.database_url, &e).await)
        }
    };
    tracing::info!(
        backend = store.backend_name(),
        "database ready, migrations applied"
    );

    let shutdown = CancellationToken::new();
    let wakeup = Arc::new(Notify::new());
    let writer_stop = CancellationToken::new();
    let (writer, writer_task) =
        Writer::spawn(store.clone(), Arc::clone(&wakeup), writer_stop.clone());
    let providers = providers::stores(&settings.config, &settings.secrets);
    // A store with no secret is simply not used, unless no store has one.
    let none_set = providers.iter().all(|p| p.missing_secret_hint().is_some());
    for p in &providers {
        match p.missing_secret_hint() {
            // A listed store was set up on purpose: its missing secret is always worth a warning.
            Some(hint) if none_set || settings.config.listed_store(p.name()).is_some() => {
                tracing::warn!(provider = p.name(), "{hint}")
            }
            Some(hint) => tracing::info!(provider = p.name(), "{hint}"),
            None => {}
        }
    }
    let wc = &settings.config.webhook_config;
    let bind = SocketAddr::new(wc.bind_address, wc.webhook_port);
    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!("cannot listen on {bind} (webhookConfig.bindAddress / webhookPort)")
    })?;
    let addr = listener.local_addr()?;
    let metrics_listener = match wc.metrics_addr {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen on {at} (webhookConfig.metricsAddr)"))?,
        ),
        None => None,
    };
    let metrics_addr = match &metrics_listener {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    let limits = serve::Limits::from_config(wc).fit_open_files(serve::open_file_limit());
    if limits.max_connections < wc.max_connections {
        tracing::warn!(
            "webhookConfig.maxConnections lowered from {} to {} to fit this process's open-file limit; raise the limit (systemd: LimitNOFILE=) to allow more",
            wc.max_connections,
            limits.max_connections
        );
    }

    let rest = DiscordRest::new(
        settings.discord_api_base.as_deref(),
        settings.secrets.discord_token.as_ref(),
    )
    .context("cannot set up the HTTP client for Discord")?;
    let state = AppState::new(settings, store.clone(), writer, providers, wakeup, clock);
    let http_stats = Arc::new(serve::Stats::default());
    let mut router = webhook::router(state.clone());
    if state.settings().secrets.metrics_token.is_some() {
        router = router.merge(metrics::router(state.clone(), Arc::clone(&http_stats)));
        tracing::info!("metrics: GET /metrics on the webhook port, with METRICS_TOKEN");
    }
    let router = crate::telemetry::trace_requests(router);
    let metrics_task = metrics_listener.map(|listener| {
        let router = crate::telemetry::trace_requests(metrics::router(
            state.clone(),
            Arc::clone(&http_stats),
        ));
        let limits = serve::Limits {
            max_connections: serve::METRICS_MAX_CONNECTIONS,
            ..limits
        };
        tokio::spawn(serve::serve(
            listener,
            router,
            limits,
            shutdown.clone(),
            Arc::new(serve::Stats::default()),
            "metrics",
        ))
    });
    match (
        metrics_addr,
        state.settings().secrets.metrics_token.is_some(),
    ) {
        (Some(at), _) => tracing::info!("metrics: http://{at}/metrics"),
        (None, false) => tracing::info!(
            "metrics are not served (set webhookConfig.metricsAddr or METRICS_TOKEN to serve them)"
        ),
        (None, true) => {}
    }
    let config = state.config();
    // Only the stores in use: a store without its secret takes no webhooks to announce.
    let in_use: Vec<_> = state
        .providers()
        .iter()
        .filter(|p| none_set || p.missing_secret_hint().is_none())
        .cloned()
        .collect();
    outbox::log_routing(&config, &in_use);
    state.alerts().connect(rest.clone());
    tokio::spawn(crate::alerts::watch(state.clone(), shutdown.child_token()));
    let digest_task = if rest.has_token() {
        let digests = crate::digest::Scheduler::new(state.clone(), rest.clone());
        Some(tokio::spawn(digests.run(shutdown.child_token())))
    } else {
        if !config.digests.is_empty() {
            tracing::warn!("no DISCORD_TOKEN: digests are not posted");
        }
        None
    };
    let worker = Worker::new(state.clone(), rest);
    if worker.preview() {
        tracing::warn!("no DISCORD_TOKEN: channel notices are printed here instead of posted (preview mode); webhook URLs are still posted");
    }
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
        tokio::spawn(reload::watch(state.clone(), path, shutdown.child_token()));
    }
    for p in state.providers() {
        tracing::info!(
            provider = p.name(),
            "webhook endpoint: http://{addr}{}",
            p.route(&config)
        );
    }
    for line in crate::check::public_url::lines(&config, state.providers()) {
        tracing::info!("{line}");
    }
    tracing::info!(
        "HTTP limits: {} connections, {} s for a request's headers, {} s for its body, {} s idle between requests",
        limits.max_connections,
        limits.header_timeout.as_secs(),
        limits.body_timeout.as_secs(),
        limits.idle_timeout.as_secs()
    );
    // Tests and scripts read the address from this line: keep it last and alone.
    tracing::info!("listening on {addr}");

    let token = shutdown.clone();
    let task = tokio::spawn(async move {
        serve::serve(listener, router, limits, token, http_stats, "webhook").await;
        if let Some(metrics) = metrics_task {
            let _ = metrics.await;
        }
        // Every request received has had its reply (or the shutdown bound passed); the writer
        // commits anything queued and ends.
        writer_stop.cancel();
        let _ = writer_task.await;
        // The worker finishes the post in flight; undelivered rows stay queued for next start.
        let _ = worker_task.await;
        if let Some(digests) = digest_task {
            let _ = digests.await;
        }
        if let Some(bot) = bot_task {
            let _ = bot.await;
        }
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    });
    Ok(Running {
        addr,
        metrics_addr,
        state,
        shutdown,
        task,
    })
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    // Listen before starting: a signal that arrives while the app starts is kept, not fatal.
    let signals = Signals::install().context("cannot listen for SIGINT/SIGTERM")?;
    // Idle connections must not use up the files the bot needs to accept and to store.
    serve::raise_open_file_limit();
    let running = start(settings).await?;
    let token = running.shutdown_token();
    tokio::spawn(async move {
        signals.wait().await;
        // Cancel first: nothing that happens while logging may keep the bot from stopping.
        token.cancel();
        tracing::info!("shutting down: finishing in-flight requests");
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
