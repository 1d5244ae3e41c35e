//! Digests: which periods have been posted. One row per digest and period is the idempotency key
//! that keeps a digest to one message across restarts and instances (see `sql/digests.rs`).

use super::{DbError, Store};

/// A period's row, as tests and diagnostics read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestRow {
    pub key: String,
    /// claimed, posted, skipped or failed.
    pub status: String,
    pub late: bool,
    pub message_id: Option<String>,
}

impl Store {
    pub async fn digest_schedule_known(&self, schedule: &str) -> Result<bool, DbError> {
        on_backend!(self, digest_schedule_known(schedule))
    }

    pub async fn digest_skip(&self, key: &str, schedule: &str, now: i64) -> Result<(), DbError> {
        on_backend_write!(self, digest_skip(key, schedule, now))
    }

    /// The attempt number when this instance now holds the period until `lease_until`.
    pub async fn digest_claim(
        &self,
        key: &str,
        schedule: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<i64>, DbError> {
        on_backend_write!(self, digest_claim(key, schedule, now, lease_until))
    }

    /// Marks the claimed period `status`; false if the claim was no longer this attempt's.
    pub async fn digest_finish(
        &self,
        key: &str,
        attempt: i64,
        status: &str,
        late: bool,
        message_id: Option<&str>,
        now: i64,
    ) -> Result<bool, DbError> {
        on_backend_write!(
            self,
            digest_finish(key, attempt, status, late, message_id, now)
        )
    }

    pub async fn digest_rows(&self) -> Result<Vec<DigestRow>, DbError> {
        let rows = on_backend!(self, digest_rows())?;
        Ok(rows
            .into_iter()
            .map(|(key, status, late, message_id)| DigestRow {
                key,
                status,
                late,
                message_id,
            })
            .collect())
    }
}
