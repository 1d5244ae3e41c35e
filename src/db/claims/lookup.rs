//! The lookups `/claim` and `/claims` make: stored purchases by id, sales carrying a license key,
//! the refunds of a sale, and the claims of a purchase or a member. Read-only but for the record
//! a claim by license key is queued under.

use super::ClaimRow;
use crate::db::{DbError, Store};

impl Store {
    pub async fn claims_of_purchase(&self, purchase: &str) -> Result<Vec<ClaimRow>, DbError> {
        on_backend!(self, claims_of_purchase(purchase))
    }

    pub async fn claims_of_member(&self, guild: u64, user: u64) -> Result<Vec<ClaimRow>, DbError> {
        on_backend!(
            self,
            claims_of_member(guild.cast_signed(), user.cast_signed())
        )
    }

    pub async fn purchases_by_id(
        &self,
        id: &str,
    ) -> Result<Vec<(i64, String, String, String)>, DbError> {
        on_backend!(self, purchases(id))
    }

    /// Stored sales whose items may carry `key` (checked exactly by the caller).
    pub async fn sales_with_key(
        &self,
        key: &str,
    ) -> Result<Vec<(i64, String, String, String)>, DbError> {
        let escaped: String = key
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        on_backend!(self, sales_containing(&pattern))
    }

    pub async fn refunds_of(&self, provider: &str, sale: &str) -> Result<Vec<String>, DbError> {
        on_backend!(self, refunds_of(provider, sale))
    }

    pub async fn claim_record(&self, key: &str, data: &str, now: i64) -> Result<i64, DbError> {
        on_backend!(self, claim_record(key, data, now))
    }
}
