//! The webhook port's HTTP limits, seen from a raw socket: clients that send nothing, trickle a
//! request or sit on a kept-alive connection are cut off on time, and at the connection cap the
//! oldest idle connection makes room for a real webhook.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// Reads (and discards) until the server closes the connection; how long that took, or `None`
/// if it was still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    closed.ok().map(|()| started.elapsed())
}

/// Sends `head`, then keeps sending one byte of `trickle` every 100 ms, as a slow client does.
fn trickle(stream: TcpStream, head: &'static [u8], trickle: u8) -> tokio::net::tcp::OwnedReadHalf {
    let (read, mut write) = stream.into_split();
    tokio::spawn(async move {
        if write.write_all(head).await.is_err() {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tick.tick().await;
            if write.write_all(&[trickle]).await.is_err() {
                return;
            }
        }
    });
    read
}

async fn read_closed_within(read: &mut tokio::net::tcp::OwnedReadHalf, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

async fn short_timeouts(header: u64, body: u64, idle: u64) -> TestApp {
    TestApp::start(|c| {
        c.webhook_config.header_timeout_seconds = header;
        c.webhook_config.body_timeout_seconds = body;
        c.webhook_config.idle_timeout_seconds = idle;
    })
    .await
}

#[tokio::test]
async fn a_connection_that_never_sends_a_request_is_closed_after_the_header_timeout() {
    let app = short_timeouts(1, 30, 30).await;
    let mut idle = TcpStream::connect(app.running.addr).await.unwrap();
    let took = closed_within(&mut idle, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|t| t >= Duration::from_millis(900)),
        "closed after {took:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn trickled_headers_do_not_keep_a_connection_open() {
    let app = short_timeouts(1, 30, 30).await;
    let stream = TcpStream::connect(app.running.addr).await.unwrap();
    let mut read = trickle(stream, b"POST /webhook/payhip HTTP/1.1\r\nX-Slow: ", b'a');
    assert!(
        read_closed_within(&mut read, Duration::from_secs(4)).await,
        "a byte every 100 ms kept the connection open past the 1 s header timeout"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_and_nothing_is_stored() {
    let app = short_timeouts(30, 1, 30).await;
    let stream = TcpStream::connect(app.running.addr).await.unwrap();
    let mut read = trickle(
        stream,
        b"POST /webhook/payhip HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"type\":",
        b' ',
    );
    assert!(
        read_closed_within(&mut read, Duration::from_secs(4)).await,
        "a byte every 100 ms kept the body open past the 1 s body timeout"
    );
    assert_eq!(app.store().table_counts().await.unwrap().events, 0);
    // The port still answers.
    let res = reqwest::Client::new()
        .post(format!("{}/webhook/payhip", app.base))
        .body(payhip_signed("paid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout() {
    // The header timeout is long: what closes the connection is the idle timeout.
    let app = short_timeouts(30, 30, 1).await;
    let mut stream = TcpStream::connect(app.running.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.ends_with(b"ok\n") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before answering");
        answer.extend_from_slice(&buf[..n]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let took = closed_within(&mut stream, Duration::from_secs(5)).await;
    assert!(
        took.is_some_and(|t| t >= Duration::from_millis(900)),
        "closed after {took:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn at_the_cap_the_oldest_idle_connection_makes_room_for_a_webhook() {
    let app = TestApp::start(|c| {
        c.webhook_config.max_connections = 4;
        c.webhook_config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(app.running.addr).await.unwrap());
    }
    let started = Instant::now();
    let res = reqwest::Client::new()
        .post(format!("{}/webhook/payhip", app.base))
        .body(payhip_signed("paid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(1));

    assert!(
        closed_within(&mut idle[0], Duration::from_secs(2))
            .await
            .is_some(),
        "the oldest idle connection was closed"
    );
    for (i, newer) in idle.iter().enumerate().skip(1) {
        let mut buf = [0u8; 1];
        assert!(
            matches!(newer.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "connection {i} is still open"
        );
    }
    let metrics = reqwest::get(format!(
        "http://{}/metrics",
        app.running.metrics_addr.unwrap()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        metrics.contains("integrations_bot_http_connections_evicted_total 1\n"),
        "{metrics}"
    );
    let open: usize = metrics
        .lines()
        .find_map(|l| l.strip_prefix("integrations_bot_http_connections "))
        .and_then(|v| v.parse().ok())
        .expect("the connection gauge is shown");
    assert!(open <= 4, "{open} connections open over a cap of 4");
    app.stop().await;
}
