//! Whether the database can be reached, told once and in plain words. `check-config` looks
//! without changing anything: it neither creates a SQLite file nor applies migrations.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::config::redact_url;
use crate::db::DbError;

/// How long a PostgreSQL server has to answer before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What to say about the database at `url`: how it stands, or the one problem with it.
pub async fn probe(url: &str) -> Result<String, String> {
    let shown = redact_url(url);
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return postgres(url)
            .await
            .map(|()| format!("{shown} (connected)"))
            .map_err(|why| format!("cannot connect to {shown}: {why}"));
    }
    if !url.starts_with("sqlite:") {
        return Err(format!(
            "{shown}: expected a URL starting with sqlite:// or postgres://"
        ));
    }
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(format!("{shown} (in memory: nothing is kept after a stop)"));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| format!("{shown}: the address cannot be read ({e})"))?;
    let file = absolute(options.get_filename());
    if file.exists() {
        return sqlite(options)
            .await
            .map(|()| format!("{shown} (opens fine: {})", file.display()))
            .map_err(|why| format!("cannot open {}: {why}", file.display()));
    }
    let mut folder = file.parent();
    while let Some(dir) = folder.filter(|d| !d.exists()) {
        folder = dir.parent();
    }
    match folder {
        Some(dir) if !dir.is_dir() => Err(format!(
            "cannot create {}: {} is not a folder",
            file.display(),
            dir.display()
        )),
        _ => Ok(format!(
            "{shown} (created at the first start: {})",
            file.display()
        )),
    }
}

/// The file as the bot will open it: relative paths start from the folder it runs in.
fn absolute(path: &Path) -> PathBuf {
    std::env::current_dir()
        .map(|dir| dir.join(path))
        .unwrap_or_else(|_| path.to_owned())
}

async fn sqlite(options: SqliteConnectOptions) -> Result<(), String> {
    let mut conn = options
        .read_only(true)
        .create_if_missing(false)
        .connect()
        .await
        .map_err(|e| in_words(&e))?;
    // Opening is lazy: reading the schema is what finds a file that is not a database.
    let read = sqlx::query("SELECT count(*) FROM sqlite_master")
        .execute(&mut conn)
        .await;
    let _ = conn.close().await;
    read.map(|_| ()).map_err(|e| in_words(&e))
}

async fn postgres(url: &str) -> Result<(), String> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| format!("the address cannot be read ({})", in_words(&e)))?;
    let place = format!("{}:{}", options.get_host(), options.get_port());
    let conn = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| {
            format!(
                "{place} did not answer within {} seconds",
                CONNECT_TIMEOUT.as_secs()
            )
        })?;
    match conn {
        Ok(conn) => {
            let _ = conn.close().await;
            Ok(())
        }
        Err(sqlx::Error::Io(e)) => Err(format!("{place}: {}", io_words(&e))),
        Err(e) => Err(in_words(&e)),
    }
}

/// A database error as one short sentence: the server's own words when it gave some, without
/// sqlx's "error returned from database:" wrapping.
pub fn in_words(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Io(io) => io_words(io),
        sqlx::Error::Tls(tls) => format!("TLS: {tls}"),
        sqlx::Error::Configuration(c) => c.to_string(),
        sqlx::Error::PoolTimedOut => "no connection became free in time".into(),
        other => other.to_string(),
    }
}

/// Why the bot could not open the database at `url` at start-up, in one sentence. The pool only
/// says it timed out when every try failed, so one more try is made to learn why.
pub async fn why_not_opened(url: &str, e: &DbError) -> String {
    if let DbError::Sqlx(sqlx::Error::PoolTimedOut) = e {
        if let Err(why) = probe(url).await {
            return why;
        }
    }
    let why = match e {
        DbError::Sqlx(e) => in_words(e),
        other => other.to_string(),
    };
    format!("cannot open the database {}: {why}", redact_url(url))
}

fn io_words(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::ConnectionRefused {
        return "connection refused (is PostgreSQL running there, on that port?)".into();
    }
    let text = e.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_sqlite_file_is_fine_and_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data/sales.db");
        let said = probe(&format!("sqlite://{}", file.display())).await;
        assert!(said
            .as_deref()
            .is_ok_and(|s| s.contains("created at the first start")));
        assert!(!file.exists() && !dir.path().join("data").exists());
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_one_problem() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sales.db");
        std::fs::write(&file, "this is not sqlite, just text that is long enough").unwrap();
        let said = probe(&format!("sqlite://{}", file.display()))
            .await
            .unwrap_err();
        assert!(said.starts_with("cannot open"), "{said}");
        assert!(said.contains("not a database"), "{said}");
    }

    #[tokio::test]
    async fn a_folder_in_the_way_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data"), "a file").unwrap();
        let url = format!("sqlite://{}", dir.path().join("data/sales.db").display());
        let said = probe(&url).await.unwrap_err();
        assert!(said.contains("is not a folder"), "{said}");
    }

    #[tokio::test]
    async fn a_refused_postgres_connection_is_said_once_without_the_password() {
        let said = probe("postgres://bot:hunter2@127.0.0.1:1/sales")
            .await
            .unwrap_err();
        assert_eq!(
            said,
            "cannot connect to postgres://***@127.0.0.1:1/sales: 127.0.0.1:1: connection refused (is PostgreSQL running there, on that port?)"
        );
    }
}
