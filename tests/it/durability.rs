//! Nothing acknowledged is ever lost, and nothing a sender controls can make later sales fail: a
//! disk that fills mid-burst, a flood of unsigned tests, absurd figures, NUL bytes.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

use axum::http::StatusCode;
use integrations_bot::db::Grain;
use serde_json::Value;

use crate::process::spawn_bot_command;
use crate::support::*;

const PATH: &str = "/webhook/payhip";

/// Sets the largest file the child may write (RLIMIT_FSIZE): past it every write fails, as on a
/// full disk. SIGXFSZ is ignored so the write fails instead of killing the process.
fn limit_file_size(command: &mut Command, bytes: u64) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// "Frees space" for a running child: lifts its file size limit.
fn lift_file_size_limit(pid: u32) {
    let limit = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain syscall on a child we own, with a valid pointer.
    let done = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_FSIZE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(done, 0, "prlimit: {}", std::io::Error::last_os_error());
}

#[tokio::test]
async fn a_full_disk_never_loses_an_acknowledged_sale_and_intake_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    crate::process::write_config(dir.path());
    let mut bot = spawn_bot_command(dir.path(), &url, &[], |c| limit_file_size(c, 512 * 1024));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let post = |id: String| {
        let (client, base) = (client.clone(), bot.base.clone());
        async move {
            let res = client
                .post(format!("{base}{PATH}"))
                .body(payhip_sale_with(&id, |_| {}))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    };
    let health = || {
        let (client, base) = (client.clone(), bot.base.clone());
        async move {
            client
                .get(format!("{base}/healthz"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    let mut acknowledged = Vec::new();
    let mut refused = 0;
    let mut n = 0;
    while refused < 5 {
        n += 1;
        assert!(n < 3_000, "the file limit was never reached");
        let id = format!("DISK-{n}");
        match post(id.clone()).await {
            200 => acknowledged.push(id),
            503 => refused += 1,
            other => panic!("unexpected answer {other} to sale {id}"),
        }
    }
    assert!(!acknowledged.is_empty(), "the disk filled before any sale");
    assert_eq!(
        health().await,
        503,
        "/healthz says the database cannot write"
    );

    lift_file_size_limit(bot.child.id());
    for k in 0..20 {
        let id = format!("AFTER-{k}");
        assert_eq!(
            post(id.clone()).await,
            200,
            "{id}: intake recovers without a restart"
        );
        acknowledged.push(id);
    }
    assert_eq!(health().await, 200);

    bot.child.kill().unwrap(); // SIGKILL: nothing is flushed on the way out
    bot.child.wait().unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT external_id FROM sales")
        .fetch_all(&pool)
        .await
        .unwrap();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged sales lost: {missing:?}",
        missing.len(),
        acknowledged.len()
    );
    pool.close().await;
}

#[tokio::test]
async fn a_flood_of_unsigned_tests_stores_nothing() {
    let app = TestApp::start(|c| {
        c.discord_config.sales_channel_id = Some(42);
        c.payhip_config.announce_tests = true;
    })
    .await;
    for i in 0..300 {
        let mut v = fixture("payhip/paid.json");
        v["id"] = Value::String(format!("FLOOD-{i}"));
        v["signature"] = Value::String(format!("test-{i}"));
        let (status, body) = app.post(PATH, serde_json::to_vec(&v).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!(
        counts.events, 1,
        "one unsigned test a minute is kept (announceTests is on), the rest only counted"
    );
    assert_eq!(app.running.state.unsigned_tests().received(), 300);
    app.stop().await;
}

#[tokio::test]
async fn absurd_figures_are_kept_but_never_counted_and_later_sales_go_on() {
    let app = TestApp::start(|c| c.discord_config.sales_channel_id = Some(42)).await;
    type Edit = Box<dyn Fn(&mut Value)>;
    let absurd: [(&str, Edit); 4] = [
        ("HUGE", Box::new(|v| v["price"] = Value::from(i64::MAX))),
        ("NEGATIVE", Box::new(|v| v["price"] = Value::from(-500))),
        ("FAKE-CURRENCY", Box::new(|v| v["currency"] = "XYZ1".into())),
        ("Y1970", Box::new(|v| v["date"] = Value::from(86_400))),
    ];
    for (id, edit) in absurd {
        let (status, body) = app.post(PATH, payhip_sale_with(id, edit)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{id}: stored for the record: {body}"
        );
        let (status, body) = app
            .post(PATH, payhip_sale_with(&format!("OK-{id}"), |_| {}))
            .await;
        assert_eq!(status, StatusCode::OK, "a sale after {id}: {body}");
    }
    let counts = app.store().table_counts().await.unwrap();
    assert_eq!((counts.events, counts.sales), (8, 4));
    assert!(
        app.store().outbox_rows().await.unwrap().len() == 4,
        "only the four real sales are announced"
    );
    let (from, to) = (0, i64::MAX / 2);
    for grain in [Grain::Hour, Grain::Day, Grain::Month] {
        let rows = app
            .store()
            .money_rollup(grain, from, to, None)
            .await
            .unwrap();
        assert_eq!(
            rows,
            vec![("USD".to_owned(), 4, 4 * 2999, 4 * 267, 0, 0)],
            "{grain:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn nul_and_control_characters_anywhere_are_cleaned_not_fatal() {
    const DIRT: &str = "\u{0}\u{1b}[31m\r\n\u{202e}";
    fn poison(v: &mut Value) {
        // Every free-text field; numbers sent as strings are refused with 400 when dirty.
        for key in ["id", "email", "payment_type", "stripe_charge_id"] {
            v[key] = Value::String(format!("{}{DIRT}", v[key].as_str().unwrap_or("x")));
        }
        for item in v["items"].as_array_mut().into_iter().flatten() {
            for key in ["product_name", "product_key", "variant_name", "coupon_code"] {
                if let Some(text) = item[key].as_str() {
                    item[key] = Value::String(format!("{text}{DIRT}"));
                }
            }
        }
        v["coupons"][0]["code"] = Value::String(format!("LAUNCH20{DIRT}"));
    }
    let app = TestApp::start(|c| c.discord_config.sales_channel_id = Some(42)).await;
    let body = payhip_sale_with("NUL-1", poison);
    let (status, reply) = app.post(PATH, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let (status, reply) = app.post(PATH, body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert!(reply.contains("\"duplicate\":true"), "{reply}");
    let rows = app
        .store()
        .products_raw(0, i64::MAX / 2, None)
        .await
        .unwrap();
    let names: Vec<&str> = rows.iter().map(|(name, _, _)| name.as_str()).collect();
    assert!(names.contains(&"Pixel Art Course[31m"), "{names:?}");
    assert_eq!(app.store().table_counts().await.unwrap().sales, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_refund_that_arrives_before_its_sale_is_linked_when_the_sale_comes() {
    let app = TestApp::start(|_| {}).await;
    let (status, _) = app.post(PATH, payhip_signed("refunded")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.post(PATH, payhip_signed("paid")).await;
    assert_eq!(status, StatusCode::OK);
    let rows = app
        .store()
        .money_raw(0, i64::MAX / 2, None, Some("Pixel Art Course"))
        .await
        .unwrap();
    let refunds: i64 = rows.iter().map(|r| r.4).sum();
    assert_eq!(
        refunds, 1,
        "the refund counts against the product it refunds: {rows:?}"
    );
    app.stop().await;
}
