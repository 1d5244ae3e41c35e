//! Waiting with a deadline, never a fixed sleep.

use std::time::Duration;

use integrations_bot::db::Store;

/// How long a test waits for something it is sure will happen; a deadline, not a sleep.
pub const WAIT: Duration = Duration::from_secs(20);

/// Polls `check` until it holds, failing the test after `within`. For stored state that has no
/// event to wait on; where the fake Discord or the app signals, wait on that instead.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + within;
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Waits until no notice in `store` is pending any more (delivered, previewed or dead).
pub async fn settled(store: &Store, within: Duration) {
    eventually("every notice to leave the queue", within, || {
        let store = store.clone();
        async move { store.outbox_counts().await.is_ok_and(|c| c.pending == 0) }
    })
    .await;
}
