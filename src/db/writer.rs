//! The single writer. Webhooks queue here and are committed together, so durable intake costs one
//! fsync per batch rather than one per webhook; each request is answered only after the commit
//! that holds its event. On SQLite the outbox's marks (a post starting, delivered, retry, dead)
//! join the same commits instead of taking turns with them for the database, one fsync each.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use super::{DbError, Inserted, Mark, NewEvent, Store};

/// Webhooks committed in one transaction at most. Bounded so a burst cannot build one huge
/// transaction that delays every reply.
const MAX_BATCH: usize = 256;

type Job = (NewEvent, oneshot::Sender<Result<Inserted, DbError>>);
type MarkJob = (Mark, oneshot::Sender<Result<u64, DbError>>);

/// Cheap to clone; the writer task stops when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    marks: mpsc::Sender<MarkJob>,
    /// For marks once the writer has stopped (a post finishing during shutdown), and on
    /// PostgreSQL, where instances write concurrently anyway.
    store: Store,
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
        let (marks, marks_rx) = mpsc::channel::<MarkJob>(MAX_BATCH * 8);
        let failing = Arc::new(AtomicBool::new(false));
        let queues = Queues {
            events: rx,
            marks: marks_rx,
        };
        let task = tokio::spawn(run(
            store.clone(),
            queues,
            committed,
            stop,
            Arc::clone(&failing),
        ));
        let writer = Writer {
            tx,
            marks,
            store,
            failing,
        };
        (writer, task)
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

    /// Applies an outbox mark, on SQLite in the next group commit: how many rows it changed.
    pub async fn mark(&self, mark: Mark) -> Result<u64, DbError> {
        if !self.store.is_sqlite() {
            return self.store.apply_mark(&mark).await;
        }
        let (reply, answer) = oneshot::channel();
        match self.marks.send((mark, reply)).await {
            Ok(()) => answer.await.map_err(|_| DbError::WriterGone)?,
            // Stopped: the mark still belongs in the database.
            Err(mpsc::error::SendError((mark, _))) => self.store.apply_mark(&mark).await,
        }
    }
}

struct Queues {
    events: mpsc::Receiver<Job>,
    marks: mpsc::Receiver<MarkJob>,
}

async fn run(
    store: Store,
    mut queues: Queues,
    committed: Arc<Notify>,
    stop: CancellationToken,
    failing: Arc<AtomicBool>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut marks: Vec<MarkJob> = Vec::with_capacity(MAX_BATCH);
    let (mut events_open, mut marks_open) = (true, true);
    while events_open || marks_open {
        tokio::select! {
            n = queues.events.recv_many(&mut batch, MAX_BATCH), if events_open => {
                // Zero: closed and empty.
                events_open = n > 0;
            }
            n = queues.marks.recv_many(&mut marks, MAX_BATCH), if marks_open => {
                marks_open = n > 0;
            }
            () = stop.cancelled(), if !queues.events.is_closed() => {
                // Closing lets recv_many hand over what is already queued, then return 0.
                queues.events.close();
                queues.marks.close();
                continue;
            }
        }
        // Whatever else is already queued rides along in the same commit.
        while batch.len() < MAX_BATCH {
            match queues.events.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        while marks.len() < MAX_BATCH {
            match queues.marks.try_recv() {
                Ok(job) => marks.push(job),
                Err(_) => break,
            }
        }
        if batch.is_empty() && marks.is_empty() {
            continue;
        }
        let results = commit(&store, &batch, &marks).await;
        let (inserted, changed) = results;
        let any_failed = inserted
            .iter()
            .any(|r| matches!(r, Err(e) if !e.is_input()))
            || changed.iter().any(Result::is_err);
        if any_failed && !failing.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "the database refuses writes: webhooks are answered 503 (stores retry) until it recovers"
            );
        } else if !any_failed && !inserted.is_empty() && failing.swap(false, Ordering::Relaxed) {
            tracing::info!("the database accepts writes again: intake resumed");
        }
        let queued_notices = inserted
            .iter()
            .any(|r| matches!(r, Ok(Inserted::New { notices, .. }) if *notices > 0));
        if queued_notices {
            committed.notify_one();
        }
        for ((_, reply), result) in batch.drain(..).zip(inserted) {
            // The requester may have gone (client hung up); the event is stored regardless.
            let _ = reply.send(result);
        }
        for ((_, reply), result) in marks.drain(..).zip(changed) {
            let _ = reply.send(result);
        }
    }
}

type Outcomes = (Vec<Result<Inserted, DbError>>, Vec<Result<u64, DbError>>);

/// One commit for the batch and the marks; apart, one by one, when it fails, so that one bad row
/// fails no neighbour.
async fn commit(store: &Store, batch: &[Job], marks: &[MarkJob]) -> Outcomes {
    let events: Vec<&NewEvent> = batch.iter().map(|(e, _)| e).collect();
    let changes: Vec<&Mark> = marks.iter().map(|(m, _)| m).collect();
    // A transaction can lose a lock race to another instance; one more try usually wins.
    let first = match store.write_round(&events, &changes).await {
        Err(e) if e.is_transient() => {
            tracing::debug!("batch insert conflicted, retrying: {e}");
            store.write_round(&events, &changes).await
        }
        other => other,
    };
    match first {
        Ok((inserted, changed)) => (
            inserted.into_iter().map(Ok).collect(),
            changed.into_iter().map(Ok).collect(),
        ),
        Err(e) if events.len() + changes.len() == 1 => {
            if events.is_empty() {
                (Vec::new(), vec![Err(e)])
            } else {
                (vec![Err(e)], Vec::new())
            }
        }
        Err(batch_error) => {
            tracing::warn!("batch insert failed, retrying one by one: {batch_error}");
            let mut inserted = Vec::with_capacity(events.len());
            for e in &events {
                inserted.push(alone(store, &[*e], &[]).await.map(|(mut v, _)| v.remove(0)));
            }
            let mut changed = Vec::with_capacity(changes.len());
            for m in &changes {
                changed.push(alone(store, &[], &[*m]).await.map(|(_, mut v)| v.remove(0)));
            }
            (inserted, changed)
        }
    }
}

async fn alone(
    store: &Store,
    events: &[&NewEvent],
    marks: &[&Mark],
) -> Result<(Vec<Inserted>, Vec<u64>), DbError> {
    match store.write_round(events, marks).await {
        Err(e) if e.is_transient() => store.write_round(events, marks).await,
        other => other,
    }
}
