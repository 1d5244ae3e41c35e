//! The claim transactions (see `db/claims`): each role change is written in the same transaction
//! as the claim it follows from. `ROW_LOCK` is PostgreSQL's row lock, so two instances never bind
//! one purchase twice; `BEGIN_WRITE` makes SQLite take its write lock before the first read.

use super::super::{BEGIN_WRITE, ROW_LOCK};
use super::{Pool, Tx};
use crate::db::claims::*;
use crate::db::DbError;
use crate::roles::{roles_to_remove, Action, MemberRole};

async fn finish(tx: &mut Tx<'_>, f: Option<Finishing<'_>>, now: i64) -> Result<bool, DbError> {
    let Some(f) = f else { return Ok(true) };
    let done = sqlx::query(
        "UPDATE outbox SET status = 'delivered', delivered_at = $3, lease_until = NULL, \
         claim_token = NULL, last_error = NULL \
         WHERE id = $1 AND claim_token = $2 AND status = 'pending'",
    )
    .bind(f.outbox_id)
    .bind(f.token)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn enqueue(
    tx: &mut Tx<'_>,
    event_id: i64,
    target: MemberRole,
    action: Action,
    reason: &str,
    now: i64,
) -> Result<(), DbError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (event_id, destination, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $3) RETURNING id",
    )
    .bind(event_id)
    .bind(target.to_stored())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO role_changes (outbox_id, action, reason) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(action.as_str())
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn bind(
    pool: &Pool,
    c: &NewClaim<'_>,
    f: Option<Finishing<'_>>,
) -> Result<Bound, DbError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    if !finish(&mut tx, f, c.now).await? {
        return Ok(Bound::Lost);
    }
    let existing: Option<(i64, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT user_id, status, ended_reason FROM role_claims \
         WHERE provider = $1 AND purchase = $2 {ROW_LOCK}"
    ))
    .bind(c.provider)
    .bind(c.purchase)
    .fetch_optional(&mut *tx)
    .await?;
    let user = c.user.cast_signed();
    let again = match existing {
        Some((_, status, reason)) if status == "ended" => {
            tx.commit().await?;
            return Ok(Bound::Ended(reason));
        }
        Some((holder, status, _)) if status == "live" && holder != user => {
            tx.commit().await?;
            return Ok(Bound::TakenByOther(holder.cast_unsigned()));
        }
        Some((_, status, _)) => status == "live",
        None => false,
    };
    let written = sqlx::query(
        "INSERT INTO role_claims (provider, purchase, event_id, guild_id, user_id, roles, via, \
         status, claimed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'live', $8, $8) \
         ON CONFLICT (provider, purchase) DO UPDATE SET event_id = excluded.event_id, \
         guild_id = excluded.guild_id, user_id = excluded.user_id, roles = excluded.roles, \
         via = excluded.via, status = 'live', ended_reason = NULL, updated_at = \
         excluded.updated_at \
         WHERE role_claims.status <> 'ended'",
    )
    .bind(c.provider)
    .bind(c.purchase)
    .bind(c.event_id)
    .bind(c.guild.cast_signed())
    .bind(user)
    .bind(roles_text(c.roles))
    .bind(c.via)
    .bind(c.now)
    .execute(&mut *tx)
    .await?;
    if written.rows_affected() == 0 {
        // Ended by a refund committed since the check above.
        tx.commit().await?;
        return Ok(Bound::Ended(None));
    }
    for role in c.roles {
        let target = MemberRole {
            guild: c.guild,
            user: c.user,
            role: *role,
        };
        enqueue(&mut tx, c.event_id, target, Action::Grant, c.reason, c.now).await?;
    }
    tx.commit().await?;
    Ok(if again {
        Bound::Again(c.roles.len())
    } else {
        Bound::New(c.roles.len())
    })
}

/// Ends the live claims of a purchase (`status`: `ended` or `unbound`) and queues
/// the removal of every role no other live purchase of the member gives. None: the
/// outbox row was taken over and nothing was written.
#[allow(clippy::too_many_arguments)]
pub async fn end(
    pool: &Pool,
    provider: Option<&str>,
    purchase: &str,
    status: &str,
    reason: &str,
    now: i64,
    f: Option<Finishing<'_>>,
) -> Result<Option<Vec<ClaimRow>>, DbError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    if !finish(&mut tx, f, now).await? {
        return Ok(None);
    }
    if let (Some(provider), Some(f), "ended") = (provider, f, status) {
        // Ended before anyone claimed it: a claim made after this sees it ended, even
        // one that checked the refunds a moment before they were written.
        sqlx::query(
            "INSERT INTO role_claims (provider, purchase, event_id, guild_id, user_id, roles, \
             via, status, ended_reason, claimed_at, updated_at) \
             SELECT $1, $2, event_id, 0, 0, '', 'none', 'ended', $3, $4, $4 FROM outbox \
             WHERE id = $5 ON CONFLICT (provider, purchase) DO NOTHING",
        )
        .bind(provider)
        .bind(purchase)
        .bind(reason)
        .bind(now)
        .bind(f.outbox_id)
        .execute(&mut *tx)
        .await?;
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM role_claims WHERE (CAST($1 AS TEXT) IS NULL OR provider = $1) \
         AND purchase = $2 AND status = 'live' ORDER BY id {ROW_LOCK}"
    ))
    .bind(provider)
    .bind(purchase)
    .fetch_all(&mut *tx)
    .await?;
    let ended: Vec<ClaimRow> = rows.into_iter().map(decode).collect();
    for claim in &ended {
        sqlx::query(
            "UPDATE role_claims SET status = $3, ended_reason = $4, updated_at = $5 \
             WHERE provider = $1 AND purchase = $2",
        )
        .bind(&claim.provider)
        .bind(&claim.purchase)
        .bind(status)
        .bind(reason)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let held: Vec<String> = sqlx::query_scalar(
            "SELECT roles FROM role_claims WHERE guild_id = $1 AND user_id = $2 AND status = \
             'live'",
        )
        .bind(claim.guild.cast_signed())
        .bind(claim.user.cast_signed())
        .fetch_all(&mut *tx)
        .await?;
        let held: Vec<Vec<u64>> = held.iter().map(|r| parse_roles(r)).collect();
        for role in roles_to_remove(&claim.roles, &held) {
            let target = MemberRole {
                guild: claim.guild,
                user: claim.user,
                role,
            };
            enqueue(&mut tx, claim.event_id, target, Action::Revoke, reason, now).await?;
        }
    }
    tx.commit().await?;
    Ok(Some(ended))
}

/// Queues the grants of every live claim of a member again (they rejoined).
pub async fn regrant(pool: &Pool, guild: u64, user: u64, now: i64) -> Result<usize, DbError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM role_claims WHERE guild_id = $1 AND user_id = $2 \
         AND status = 'live' ORDER BY id"
    ))
    .bind(guild.cast_signed())
    .bind(user.cast_signed())
    .fetch_all(&mut *tx)
    .await?;
    let mut given: Vec<u64> = Vec::new();
    for claim in rows.into_iter().map(decode) {
        let reason = format!("rejoined the server; order {}", claim.purchase);
        for role in claim.roles {
            if given.contains(&role) {
                continue;
            }
            given.push(role);
            let target = MemberRole { guild, user, role };
            enqueue(&mut tx, claim.event_id, target, Action::Grant, &reason, now).await?;
        }
    }
    tx.commit().await?;
    Ok(given.len())
}

pub async fn change(pool: &Pool, outbox_id: i64) -> Result<Option<(String, String)>, DbError> {
    Ok(
        sqlx::query_as("SELECT action, reason FROM role_changes WHERE outbox_id = $1")
            .bind(outbox_id)
            .fetch_optional(pool)
            .await?,
    )
}
