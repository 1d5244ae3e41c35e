//! The release scenario from outside: the real binary, thousands of idle and slow connections,
//! and a stop while a request is half sent.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::process::{spawn_bot_with, Bot};
use crate::support::*;

/// Attacker connections. The test process needs that many files on top of what the rest of the
/// suite has open at the same time; where the hard limit is too low, fewer are used (and said).
const ATTACKERS: usize = 2_000;
const SPARE_FILES: u64 = 400;

/// A bot that is killed when the test ends, failed assertions included, so no process outlives
/// a failing test.
pub(crate) struct Reaped(pub(crate) Bot);

impl std::ops::Deref for Reaped {
    type Target = Bot;
    fn deref(&self) -> &Bot {
        &self.0
    }
}

impl std::ops::DerefMut for Reaped {
    fn deref_mut(&mut self) -> &mut Bot {
        &mut self.0
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        // A child already waited for is not signalled again.
        let _ = self.0.child.kill();
        let _ = self.0.child.wait();
    }
}

fn write_config(dir: &Path) {
    std::fs::write(
        dir.join("config.json"),
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1",
                                "metricsAddr": "127.0.0.1:0" },
             "discordConfig": { "salesChannelId": "42" } }"#,
    )
    .unwrap();
}

fn output(bot: &Bot) -> String {
    bot.output.lock().unwrap().clone()
}

fn metrics_url(bot: &Bot) -> String {
    let out = output(bot);
    let at = out
        .split("metrics: http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the metrics address is logged");
    format!("http://{at}")
}

fn gauge(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {metrics}"))
}

/// Opens one attacker connection: idle, trickling its head, or trickling its body.
async fn attacker(addr: &str, kind: usize) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let (head, byte): (&'static [u8], u8) = match kind % 4 {
        0 | 1 => return Some(stream),
        2 => (b"POST /webhook/payhip HTTP/1.1\r\nX-Slow: ", b'a'),
        _ => (
            b"POST /webhook/payhip HTTP/1.1\r\nHost: bot\r\nContent-Length: 100000\r\n\r\n{",
            b' ',
        ),
    };
    tokio::spawn(async move {
        if stream.write_all(head).await.is_err() {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            if stream.write_all(&[byte]).await.is_err() {
                return;
            }
        }
    });
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_are_answered_within_a_second_while_2000_idle_and_slow_connections_are_held(
) {
    let limit = integrations_bot::serve::raise_open_file_limit().unwrap_or(1_024);
    let attackers = ATTACKERS.min(limit.saturating_sub(SPARE_FILES) as usize);
    if attackers < ATTACKERS {
        eprintln!("open-file limit {limit}: using {attackers} attacker connections");
    }
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_config(dir.path());
    let bot = Reaped(spawn_bot_with(dir.path(), &url, &[]));
    let addr = bot.base.trim_start_matches("http://").to_owned();

    let mut idle = Vec::new();
    for i in 0..attackers {
        idle.extend(attacker(&addr, i).await);
    }
    // Each webhook on a new connection, the hard case at the cap.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let res = client
            .post(format!("{}/webhook/payhip", bot.base))
            .body(payhip_signed("paid"))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .expect("answered");
        assert_eq!(res.status(), 200);
        slowest = slowest.max(started.elapsed());
        // Spread over a few seconds while the slow connections keep trickling.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    eprintln!("{attackers} attacker connections: slowest of 20 webhooks answered in {slowest:?}");
    assert!(
        slowest < Duration::from_secs(1),
        "slowest answer {slowest:?}"
    );

    let metrics = reqwest::get(metrics_url(&bot))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        gauge(&metrics, "integrations_bot_http_connections") <= 1_000,
        "{metrics}"
    );
    if attackers > 1_000 {
        assert!(
            gauge(&metrics, "integrations_bot_http_connections_evicted_total") > 0,
            "{metrics}"
        );
        let log = output(&bot);
        assert_eq!(
            log.matches("connection limit reached").count(),
            1,
            "warned once, not once per connection:\n{log}"
        );
    }
    drop(idle);
}

#[tokio::test]
async fn sigterm_with_a_half_sent_request_exits_within_the_shutdown_bound() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_config(dir.path());
    let mut bot = Reaped(spawn_bot_with(dir.path(), &url, &[]));
    let addr = bot.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            b"POST /webhook/payhip HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n\
              Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    // "100 Continue" comes once the bot is reading the body: the request is in progress.
    let mut answer = Vec::new();
    let mut buf = [0u8; 256];
    while !answer.windows(12).any(|w| w == b"100 Continue") {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "closed before reading the body");
        answer.extend_from_slice(&buf[..n]);
    }
    stream.write_all(b"{\"type\":\"paid\",").await.unwrap();

    let started = Instant::now();
    let term = Command::new("kill")
        .arg("-TERM")
        .arg(bot.child.id().to_string())
        .status()
        .unwrap();
    assert!(term.success());
    let bound = integrations_bot::serve::SHUTDOWN_GRACE + Duration::from_secs(2);
    let exit = loop {
        if let Some(exit) = bot.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < bound,
            "still running {bound:?} after SIGTERM:\n{}",
            output(&bot)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");
    eprintln!("exited {:?} after SIGTERM", started.elapsed());
    // The half-sent request got no answer, so its sender retries it.
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    assert!(!String::from_utf8_lossy(&rest).contains("200"), "{rest:?}");
    assert!(
        output(&bot).contains("closing 1 idle or unfinished connection(s)"),
        "{}",
        output(&bot)
    );
}

#[tokio::test]
async fn with_its_log_reader_gone_the_bot_still_answers_webhooks_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    write_config(dir.path());
    let child = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .arg("--config")
        .arg(dir.path().join("config.json"))
        .arg("run")
        .env_remove("DISCORD_TOKEN")
        .env_remove("BOT_TOKEN")
        .env("PAYHIP_API_KEY", PAYHIP_KEY)
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut bot = Reaped(Bot {
        child,
        base: String::new(),
        output: Default::default(),
    });
    let mut lines = BufReader::new(bot.child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("listening line").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.trim().to_owned();
        }
    };
    // Like a `| tee` or a terminal that went away: every later log write fails.
    drop(lines);
    let res = reqwest::Client::new()
        .post(format!("http://{addr}/webhook/payhip"))
        .body(payhip_signed("paid"))
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(res.status(), 200);

    let started = Instant::now();
    assert!(Command::new("kill")
        .arg("-TERM")
        .arg(bot.child.id().to_string())
        .status()
        .unwrap()
        .success());
    let bound = integrations_bot::serve::SHUTDOWN_GRACE + Duration::from_secs(2);
    let exit = loop {
        if let Some(exit) = bot.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            started.elapsed() < bound,
            "still running {bound:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "exit status {exit:?}");
}
