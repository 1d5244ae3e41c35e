//! A small HTTP/1.1 load generator: pre-built requests written on keep-alive connections and
//! only the status line and length of each answer read, so the generator costs little of the
//! CPU the measured bot needs.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a run measured.
pub struct Outcome {
    pub ok: usize,
    pub failed: usize,
    /// Of the requests answered 200.
    pub latencies: Vec<Duration>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort();
        crate::percentile(&self.latencies, p)
    }
}

/// A POST of `body` to `path`, ready to write.
pub fn request(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

struct Conn {
    addr: SocketAddr,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    fn new(addr: SocketAddr) -> Conn {
        Conn {
            addr,
            stream: None,
            buf: vec![0; 16 * 1024],
        }
    }

    /// Sends one request and returns the answer's status, reconnecting when the server closed
    /// the connection.
    async fn send(&mut self, request: &[u8]) -> Option<u16> {
        for _ in 0..2 {
            if self.stream.is_none() {
                let stream = TcpStream::connect(self.addr).await.ok()?;
                stream.set_nodelay(true).ok()?;
                self.stream = Some(stream);
            }
            match self.exchange(request).await {
                Some(status) => return Some(status),
                None => self.stream = None,
            }
        }
        None
    }

    async fn exchange(&mut self, request: &[u8]) -> Option<u16> {
        let stream = self.stream.as_mut()?;
        stream.write_all(request).await.ok()?;
        let mut filled = 0;
        loop {
            let n = stream.read(&mut self.buf[filled..]).await.ok()?;
            if n == 0 {
                return None;
            }
            filled += n;
            let head = &self.buf[..filled];
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                if filled == self.buf.len() {
                    return None;
                }
                continue;
            };
            let text = std::str::from_utf8(&head[..end]).ok()?;
            let status = text.get(9..12)?.parse().ok()?;
            let length: usize = text
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            let mut rest = (end + 4 + length).saturating_sub(filled);
            while rest > 0 {
                let n = stream.read(&mut self.buf).await.ok()?;
                if n == 0 {
                    return None;
                }
                rest = rest.saturating_sub(n);
            }
            return Some(status);
        }
    }
}

/// Closed loop: `conns` connections, each sending the next request as soon as its last one is
/// answered, until every request was sent once.
pub async fn saturate(addr: SocketAddr, requests: Arc<Vec<Vec<u8>>>, conns: usize) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(conns);
    for _ in 0..conns {
        let (requests, next) = (Arc::clone(&requests), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let (mut ok, mut failed, mut latencies) = (0, 0, Vec::new());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    break;
                };
                let t = Instant::now();
                if conn.send(request).await == Some(200) {
                    ok += 1;
                    latencies.push(t.elapsed());
                } else {
                    failed += 1;
                }
            }
            (ok, failed, latencies)
        }));
    }
    collect(tasks, started).await
}

/// Open loop: request `i` is due at `i / rate` seconds after the start, spread over `conns`
/// connections. Latency counts from when a request was due, so a stall shows in full rather
/// than delaying the requests behind it.
pub async fn paced(
    addr: SocketAddr,
    requests: Arc<Vec<Vec<u8>>>,
    rate: f64,
    conns: usize,
) -> Outcome {
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(conns);
    for k in 0..conns {
        let requests = Arc::clone(&requests);
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let (mut ok, mut failed, mut latencies) = (0, 0, Vec::new());
            for i in (k..requests.len()).step_by(conns) {
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                if conn.send(&requests[i]).await == Some(200) {
                    ok += 1;
                    latencies.push(due.elapsed());
                } else {
                    failed += 1;
                }
            }
            (ok, failed, latencies)
        }));
    }
    collect(tasks, started).await
}

type Tally = (usize, usize, Vec<Duration>);

async fn collect(tasks: Vec<tokio::task::JoinHandle<Tally>>, started: Instant) -> Outcome {
    let mut out = Outcome {
        ok: 0,
        failed: 0,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        if let Ok((ok, failed, latencies)) = task.await {
            out.ok += ok;
            out.failed += failed;
            out.latencies.extend(latencies);
        }
    }
    out.elapsed = started.elapsed();
    out
}
