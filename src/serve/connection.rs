//! One HTTP/1 connection and the phase it is in. Every deadline comes from the phase, so a client
//! cannot stretch one by trickling bytes: a timer starts when a phase starts, not at each byte.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::Limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// No byte of the next request yet. `first`: nothing was ever asked on this connection, so
    /// the header timeout runs from the moment it was accepted.
    Waiting { since: Instant, first: bool },
    /// Part of a request head has arrived.
    Head { since: Instant },
    /// The head is in; the body is still arriving.
    Body { since: Instant },
    /// The whole request is in and is being answered: never cut short except at the shutdown
    /// bound, since the answer may acknowledge a stored event.
    Answering,
}

impl Phase {
    /// Which connections go first when the cap is hit: the idle, then those still sending.
    pub(super) fn eviction_rank(self) -> Option<u8> {
        match self {
            Phase::Waiting { .. } => Some(0),
            Phase::Head { .. } => Some(1),
            Phase::Body { .. } => Some(2),
            Phase::Answering => None,
        }
    }

    fn deadline(self, limits: &Limits) -> Option<Instant> {
        match self {
            Phase::Waiting { since, first: true } | Phase::Head { since } => {
                Some(since + limits.header_timeout)
            }
            Phase::Waiting {
                since,
                first: false,
            } => Some(since + limits.idle_timeout),
            Phase::Body { since } => Some(since + limits.body_timeout),
            Phase::Answering => None,
        }
    }
}

/// What the accept loop and the connection's task share about one connection.
pub(super) struct Slot {
    phase: Mutex<Phase>,
    changed: tokio::sync::Notify,
    /// Cancelled to close the connection at once (to make room under the cap).
    pub(super) close: CancellationToken,
}

impl Slot {
    pub(super) fn new() -> Arc<Slot> {
        Arc::new(Slot {
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                first: true,
            }),
            changed: tokio::sync::Notify::new(),
            close: CancellationToken::new(),
        })
    }

    pub(super) fn phase(&self) -> Phase {
        *self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, f: impl FnOnce(Phase) -> Phase) {
        let mut phase = self.phase.lock().unwrap_or_else(|p| p.into_inner());
        let next = f(*phase);
        if next != *phase {
            *phase = next;
            self.changed.notify_one();
        }
    }

    fn set(&self, next: Phase) {
        self.update(|_| next);
    }
}

/// Why a connection's task ended early, for the counters.
pub(super) enum Ended {
    Done,
    TimedOut,
}

/// Serves one connection until it ends, times out, is evicted, or shutdown says so.
pub(super) async fn run(
    stream: tokio::net::TcpStream,
    router: Router,
    slot: Arc<Slot>,
    limits: Limits,
    shutdown: CancellationToken,
    force: CancellationToken,
) -> Ended {
    let io = hyper_util::rt::TokioIo::new(Tracked {
        io: stream,
        slot: Arc::clone(&slot),
    });
    let service = Service {
        router,
        slot: Arc::clone(&slot),
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    // Our own phase deadlines replace hyper's header timer, which would also cut idle keep-alive.
    builder
        .header_read_timeout(None)
        .max_header_size(MAX_HEADER_BYTES);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        let deadline = slot.phase().deadline(&limits);
        let expiry = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("connection ended: {e}");
                }
                return Ended::Done;
            }
            // The phase moved while hyper ran the connection: recompute the deadline.
            () = slot.changed.notified() => {}
            () = expiry => {
                // Re-checked: the phase may have moved on just as the timer fired.
                if slot.phase().deadline(&limits).is_some_and(|at| at <= Instant::now()) {
                    return match slot.phase() {
                        Phase::Waiting { first: false, .. } => Ended::Done,
                        _ => Ended::TimedOut,
                    };
                }
            }
            () = slot.close.cancelled() => return Ended::Done,
            () = shutdown.cancelled(), if !draining => {
                // Nothing was acknowledged to a client that is still sending: it will retry.
                if slot.phase() != Phase::Answering {
                    return Ended::Done;
                }
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            () = force.cancelled() => return Ended::Done,
        }
    }
}

/// Request heads larger than this are answered 431: real webhooks send a few hundred bytes.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The socket, noting when the first byte of a new request arrives.
struct Tracked {
    io: tokio::net::TcpStream,
    slot: Arc<Slot>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.slot.update(|phase| match phase {
                Phase::Waiting { since, first: true } => Phase::Head { since },
                Phase::Waiting { first: false, .. } => Phase::Head {
                    since: Instant::now(),
                },
                other => other,
            });
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// The router, marking the phase as each request arrives and is answered.
struct Service {
    router: Router,
    slot: Arc<Slot>,
}

type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl hyper::service::Service<hyper::Request<Incoming>> for Service {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: hyper::Request<Incoming>) -> Answer {
        let slot = Arc::clone(&self.slot);
        slot.set(if request.body().is_end_stream() {
            Phase::Answering
        } else {
            Phase::Body {
                since: Instant::now(),
            }
        });
        let request: Request = request.map(|inner| {
            Body::new(TrackedBody {
                inner,
                slot: Some(Arc::clone(&slot)),
            })
        });
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request).await;
            slot.set(Phase::Waiting {
                since: Instant::now(),
                first: false,
            });
            response
        })
    }
}

/// The request body, marking the request as answered-from-now-on once its last byte is in.
struct TrackedBody {
    inner: Incoming,
    slot: Option<Arc<Slot>>,
}

impl HttpBody for TrackedBody {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let result = Pin::new(&mut self.inner).poll_frame(cx);
        let complete = match &result {
            Poll::Ready(None) => true,
            Poll::Ready(Some(Ok(_))) => self.inner.is_end_stream(),
            _ => false,
        };
        if complete {
            if let Some(slot) = self.slot.take() {
                slot.set(Phase::Answering);
            }
        }
        result
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
