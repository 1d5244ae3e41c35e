//! The binary's own commands, as a seller types them.

use std::process::Command;

#[test]
fn invite_prints_the_link_with_the_scopes_and_permissions_the_bot_needs() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        // base64 of "112233445566778899" before the first dot, as in a real token.
        .env(
            "DISCORD_TOKEN",
            "MTEyMjMzNDQ1NTY2Nzc4ODk5.GAbCdE.not-a-real-secret",
        )
        .arg("invite")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("https://discord.com/oauth2/authorize?client_id=112233445566778899&scope=bot%20applications.commands&permissions=117760"),
        "{text}"
    );
    assert!(
        !text.contains("not-a-real-secret"),
        "the token is never printed"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        .env_remove("DISCORD_TOKEN")
        .env_remove("BOT_TOKEN")
        .arg("invite")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--client-id"));
}

#[test]
fn check_config_into_a_closed_pipe_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        .arg("check-config")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader went away, as `| head -0` would
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// The earlier JavaScript bot's tables, as better-sqlite3 created them.
const JS_SCHEMA: &str =
    "CREATE TABLE sales (id TEXT PRIMARY KEY, type TEXT, products TEXT, amount REAL, \
     currency TEXT, customer TEXT, date TEXT, coupon TEXT, discount REAL, originalDate TEXT); \
     CREATE TABLE subscriptions (id TEXT PRIMARY KEY, type TEXT, product TEXT, plan TEXT, \
     customer TEXT, date TEXT);";

#[tokio::test]
async fn import_js_brings_the_old_history_once() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old-sales.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=rwc", old.display()))
        .await
        .unwrap();
    sqlx::raw_sql(JS_SCHEMA).execute(&pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO sales VALUES ('TX-1', 'paid', 'Course (SALE), Pack', 29.99, 'USD', 'a@example.com', \
           '2025-03-01T10:00:00.000Z', 'LAUNCH', 5.0, NULL); \
         INSERT INTO sales VALUES ('TX-2', 'paid', '[\"Course\"]', 10.1, '', 'b@example.com', \
           '1740823200000', NULL, NULL, NULL); \
         INSERT INTO sales VALUES ('TX-1R', 'refund', 'Course', 29.99, 'USD', 'a@example.com', \
           '2025-03-02 10:00:00', NULL, NULL, '2025-03-01T10:00:00.000Z'); \
         INSERT INTO sales VALUES ('BAD', 'paid', 'Course', 1.0, 'USD', '', 'someday', NULL, NULL, NULL); \
         INSERT INTO subscriptions VALUES ('SUB-1', 'subscription.created', 'Club', 'Monthly', 'c@example.com', \
           '2025-03-01T10:00:00.000Z');",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();

    let run = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .arg("import-js")
            .arg(&old)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    assert!(first.contains("imported 4 event(s)"), "{first}");
    assert!(first.contains("1 sale(s) had no currency"), "{first}");
    assert!(
        first.contains("skipped sale \"BAD\": unreadable date"),
        "{first}"
    );
    let again = run();
    assert!(
        again.contains("imported 0 event(s)") && again.contains("4 were already here"),
        "{again}"
    );

    let store = integrations_bot::db::Store::connect(&crate::support::sqlite_url(dir.path()))
        .await
        .unwrap();
    let rows = store.money_raw(0, i64::MAX / 2, None, None).await.unwrap();
    let sum = |col: fn(&integrations_bot::db::MoneyRow) -> i64| rows.iter().map(col).sum::<i64>();
    assert_eq!(sum(|r| r.1), 2, "two sales");
    assert_eq!(sum(|r| r.2), 2999 + 1010, "exact cents from the old floats");
    assert_eq!(sum(|r| r.5), 2999, "the refund");
    assert!(
        store.outbox_rows().await.unwrap().is_empty(),
        "nothing announced"
    );
    store.close().await;
}

#[test]
fn the_javascript_bots_config_is_found_in_its_old_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/config")).unwrap();
    std::fs::write(
        dir.path().join("src/config/config.json"),
        r#"{ "discordConfig": { "salesChannelId": "123456789012345678" } }"#,
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        .arg("check-config")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("src/config/config.json"), "{text}");
    assert!(text.contains("123456789012345678"), "{text}");
}

#[tokio::test]
async fn simulate_says_where_the_notice_went_or_why_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.json"),
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" } }"#,
    )
    .unwrap();
    let url = crate::support::sqlite_url(dir.path());
    let mut bot = crate::process::spawn_bot_with(dir.path(), &url, &[]);
    let simulate = |dir: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
            .current_dir(dir)
            .env("PAYHIP_API_KEY", crate::support::PAYHIP_KEY)
            .env_remove("DISCORD_TOKEN")
            .env_remove("BOT_TOKEN")
            .args(["simulate", "paid", "--url"])
            .arg(format!("{}/webhook/payhip", bot.base))
            .output()
            .unwrap()
    };
    let out = simulate(dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Its notice goes nowhere: no channel id"),
        "{text}"
    );

    std::fs::write(
        dir.path().join("config.json"),
        r#"{ "webhookConfig": { "webhookPort": 0, "bindAddress": "127.0.0.1" },
             "discordConfig": { "salesChannelId": "42" } }"#,
    )
    .unwrap();
    let out = simulate(dir.path());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("goes to channel 42") && text.contains("preview mode"),
        "{text}"
    );
    bot.child.kill().unwrap();
    bot.child.wait().unwrap();
}

#[test]
fn stats_from_another_folder_names_the_missing_database_instead_of_reporting_no_sales() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), "{}").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_integrations-bot"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .arg("stats")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no database at data/sales.db"), "{err}");
    assert!(!dir.path().join("data").exists(), "nothing was created");
}
