//! `replay-rejected`: the webhooks kept apart after failing the signature check, verified again
//! with the secrets as they are now (see [`crate::quarantine`]). Works whether the bot runs or
//! not: the running bot posts the notices of what was taken in (within 30 seconds); a stopped
//! one posts them when it starts.

use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::db::writer::Writer;
use crate::db::Store;
use crate::state::AppState;

pub(super) async fn replay_rejected(settings: Settings) -> anyhow::Result<ExitCode> {
    if let Some(file) = Store::sqlite_file(&settings.database_url) {
        if !file.exists() {
            anyhow::bail!(
                "no database at {}: run this in the bot's folder (where its data/ folder is), or pass --config or set DATABASE_URL",
                file.display()
            );
        }
    }
    let store = Store::connect(&settings.database_url).await?;
    let wakeup = Arc::new(tokio::sync::Notify::new());
    let stop = CancellationToken::new();
    let (writer, writer_task) = Writer::spawn(store.clone(), Arc::clone(&wakeup), stop.clone());
    let providers = crate::providers::registry(&settings.secrets);
    let clock = Arc::new(crate::clock::SystemClock);
    let state = AppState::new(settings, store.clone(), writer, providers, wakeup, clock);
    let result = crate::quarantine::replay(&state).await;
    stop.cancel();
    let _ = writer_task.await;
    store.close().await;
    let replayed = result?;
    out!("{}", replayed.summary());
    Ok(ExitCode::SUCCESS)
}
