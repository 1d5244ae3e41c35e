//! The quarantine's storage, on whichever backend (see `crate::quarantine`).

use super::{DbError, RejectedBody, Store};

impl Store {
    /// Keeps `body` (its `id` is ignored) and drops the oldest past either bound.
    pub async fn keep_rejected(
        &self,
        body: &RejectedBody,
        max_bodies: usize,
        max_bytes: usize,
    ) -> Result<(), DbError> {
        let max_bodies = i64::try_from(max_bodies).unwrap_or(i64::MAX);
        let max_bytes = i64::try_from(max_bytes).unwrap_or(i64::MAX);
        on_backend_write!(self, keep_rejected(body, max_bodies, max_bytes))
    }

    pub async fn rejected_bodies(&self) -> Result<Vec<RejectedBody>, DbError> {
        on_backend!(self, rejected_bodies())
    }

    pub async fn forget_rejected(&self, id: i64) -> Result<(), DbError> {
        on_backend_write!(self, forget_rejected(id))
    }
}
