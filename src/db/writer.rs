//! The single intake writer. Requests queue here and are committed together, so durable intake
//! costs one fsync per batch rather than one per webhook; each request is answered only after the
//! commit that holds its event.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use super::{DbError, Inserted, NewEvent, Store};

/// Webhooks committed in one transaction at most. Bounded so a burst cannot build one huge
/// transaction that delays every reply.
const MAX_BATCH: usize = 256;

type Job = (NewEvent, oneshot::Sender<Result<Inserted, DbError>>);

/// Cheap to clone; the writer task stops when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    /// Set when the last write failed (full disk, I/O error, lock held too long); cleared by the
    /// next commit. `/healthz` reports it so a monitor sees intake is refusing webhooks.
    failing: Arc<AtomicBool>,
}

impl Writer {
    /// `committed` is notified after each commit that queued notices (the outbox worker waits on
    /// it).
    /// After `stop` is cancelled the writer refuses new work, commits what is queued and ends, even
    /// while handles still exist (the shared state holds one for as long as the app lives).
    pub fn spawn(
        store: Store,
        committed: Arc<Notify>,
        stop: CancellationToken,
    ) -> (Writer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>(MAX_BATCH * 8);
        let failing = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(store, rx, committed, stop, Arc::clone(&failing)));
        (Writer { tx, failing }, task)
    }

    /// True while the database refuses writes (as of the last attempt).
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Returns once the event is committed (or known to be a duplicate).
    pub async fn insert(&self, new: NewEvent) -> Result<Inserted, DbError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((new, reply))
            .await
            .map_err(|_| DbError::WriterGone)?;
        answer.await.map_err(|_| DbError::WriterGone)?
    }
}

async fn run(
    store: Store,
    mut rx: mpsc::Receiver<Job>,
    committed: Arc<Notify>,
    stop: CancellationToken,
    failing: Arc<AtomicBool>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => n,
            () = stop.cancelled(), if !rx.is_closed() => {
                // Closing lets recv_many hand over what is already queued, then return 0.
                rx.close();
                continue;
            }
        };
        if received == 0 {
            break;
        }
        let events: Vec<&NewEvent> = batch.iter().map(|(e, _)| e).collect();
        // A transaction can lose a lock race to another instance; one more try usually wins.
        let first = match store.insert_batch(&events).await {
            Err(e) if e.is_transient() => {
                tracing::debug!("batch insert conflicted, retrying: {e}");
                store.insert_batch(&events).await
            }
            other => other,
        };
        let results = match first {
            Ok(results) => results.into_iter().map(Ok).collect(),
            // One bad row must not fail its neighbours: retry each alone.
            Err(batch_error) if batch.len() > 1 => {
                tracing::warn!("batch insert failed, retrying one by one: {batch_error}");
                let mut out = Vec::with_capacity(events.len());
                for e in &events {
                    let mut one = store.insert_batch(&[*e]).await;
                    if matches!(&one, Err(err) if err.is_transient()) {
                        one = store.insert_batch(&[*e]).await;
                    }
                    out.push(one.map(|mut v| v.remove(0)));
                }
                out
            }
            Err(e) => vec![Err(e)],
        };
        let any_failed = results.iter().any(|r| matches!(r, Err(e) if !e.is_input()));
        if any_failed && !failing.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "the database refuses writes: webhooks are answered 503 (stores retry) until it recovers"
            );
        } else if !any_failed && failing.swap(false, Ordering::Relaxed) {
            tracing::info!("the database accepts writes again: intake resumed");
        }
        let queued_notices = results
            .iter()
            .any(|r| matches!(r, Ok(Inserted::New { notices, .. }) if *notices > 0));
        if queued_notices {
            committed.notify_one();
        }
        for ((_, reply), result) in batch.drain(..).zip(results) {
            // The requester may have gone (client hung up); the event is stored regardless.
            let _ = reply.send(result);
        }
    }
}
