//! Role changes through the outbox (see [`crate::roles`] for the two steps). A row to
//! [`EVENT_DESTINATION`] decides what an event changes and queues one row per member and role,
//! in the same transaction as it is marked done; a `role:` row adds or removes one role. Both
//! use the notices' claims, leases and retry policy, so a change survives restarts and is never
//! applied twice, and a removal never overtakes the grant queued before it.

use rand::Rng;

use super::deliver::Flow;
use super::policy::{Failure, Next};
use super::worker::Inner;
use crate::db::{Bound, Claimed, DbError, Finishing, NewClaim, Run};
use crate::discord::rest::{PostError, MISSING_PERMISSIONS, UNKNOWN_MEMBER, UNKNOWN_ROLE};
use crate::domain::Detail;
use crate::roles::{self, Action, MemberRole, EVENT_DESTINATION};

/// Whether a claimed row is a role change rather than a notice.
pub(super) fn is_role_row(destination: &str) -> bool {
    destination == EVENT_DESTINATION || destination.starts_with("role:")
}

impl Inner {
    pub(super) async fn deliver_role_row(
        &self,
        token: &str,
        row: &Claimed,
    ) -> Result<Flow, DbError> {
        if row.destination == EVENT_DESTINATION {
            return self.decide(token, row).await;
        }
        let Some(target) = MemberRole::parse(&row.destination) else {
            return self
                .role_give_up(token, row, "its member or role cannot be read")
                .await;
        };
        let change = self.state.store().role_change(row.id).await?;
        let Some((action, reason)) = change.and_then(|(a, r)| Some((Action::parse(&a)?, r))) else {
            return self
                .role_give_up(token, row, "no role change is recorded for it")
                .await;
        };
        self.apply(token, row, target, action, &reason).await
    }

    /// Decides what an event changes: ends the claims of a refunded or cancelled purchase, or
    /// binds a sale to the member its buyer named at checkout.
    async fn decide(&self, token: &str, row: &Claimed) -> Result<Flow, DbError> {
        let config = self.state.config();
        let store = self.state.store();
        let writer = self.state.writer();
        let event = match &row.event {
            Ok(event) => event,
            Err(why) => return self.role_give_up(token, row, why).await,
        };
        let finishing = Finishing {
            outbox_id: row.id,
            token,
        };
        let now = self.state.clock().now_ms();
        if let Some((purchase, reason)) = roles::ended_purchase(&config.roles, event) {
            let ended = store
                .end_claims(
                    Some(&purchase.provider),
                    &purchase.id,
                    "ended",
                    &reason,
                    now,
                    Some(finishing),
                )
                .await?;
            let Some(ended) = ended else {
                return Ok(Flow::Stop);
            };
            for claim in ended {
                tracing::info!(
                    event = row.event_id,
                    user = claim.user,
                    "roles of a purchase are taken back: {reason}"
                );
                self.staff_log(&format!(
                    "{} ({reason}): the roles it gave <@{}> are taken back, except those another purchase of theirs gives.",
                    claim.purchase, claim.user
                ))
                .await;
            }
            return Ok(Flow::Next);
        }
        let (Detail::Sale(sale), Some(guild)) = (&event.detail, config.discord_config.guild_id)
        else {
            writer
                .mark_delivered(Run::one(row.id), token, None, now)
                .await?;
            return Ok(Flow::Next);
        };
        let name = config
            .roles
            .checkout_question
            .as_deref()
            .and_then(|q| roles::discord_name(sale, q));
        let given = roles::roles_for_sale(&config.roles, sale);
        let (Some(name), false) = (name, given.is_empty()) else {
            writer
                .mark_delivered(Run::one(row.id), token, None, now)
                .await?;
            return Ok(Flow::Next);
        };
        let order = &event.external_id;
        let Some(parsed) = roles::parse_discord_name(&name) else {
            writer
                .mark_delivered(Run::one(row.id), token, None, now)
                .await?;
            self.staff_log(&format!("Order {order}: the Discord name given at checkout cannot be a Discord account; the buyer can use /claim.")).await;
            return Ok(Flow::Next);
        };
        if !self.rest.has_token() {
            writer.mark_previewed(row.id, token, now).await?;
            return Ok(Flow::Next);
        }
        let lease = now + self.policy().lease_ms;
        if !writer
            .begin_attempt(Run::one(row.id), token, lease, None, false)
            .await?
        {
            return Ok(Flow::Stop);
        }
        let user = match self.rest.find_member(guild, &parsed).await {
            Ok(Some(user)) => user,
            Ok(None) => {
                writer
                    .mark_delivered(Run::one(row.id), token, None, now)
                    .await?;
                self.staff_log(&format!("Order {order}: no single member of the server matches the Discord name given at checkout; the buyer can use /claim.")).await;
                return Ok(Flow::Next);
            }
            Err(e) => return self.role_failed(token, row, e).await,
        };
        let reason = format!("order {order} (Discord name given at checkout)");
        let claim = NewClaim {
            provider: &event.provider,
            purchase: order,
            event_id: row.event_id,
            guild,
            user,
            roles: &given,
            via: "checkout",
            reason: &reason,
            now: self.state.clock().now_ms(),
        };
        match store.bind_claim(&claim, Some(finishing)).await? {
            Bound::Lost => return Ok(Flow::Stop),
            Bound::New(_) | Bound::Again(_) => {}
            Bound::TakenByOther(holder) => {
                self.staff_log(&format!("Order {order}: the buyer named <@{user}> at checkout, but <@{holder}> already claimed this purchase; nothing was changed.")).await;
            }
            Bound::Ended(_) => {}
        }
        Ok(Flow::Next)
    }

    async fn apply(
        &self,
        token: &str,
        row: &Claimed,
        target: MemberRole,
        action: Action,
        reason: &str,
    ) -> Result<Flow, DbError> {
        let writer = self.state.writer();
        let now = self.state.clock().now_ms();
        if !self.rest.has_token() {
            writer.mark_previewed(row.id, token, now).await?;
            return Ok(Flow::Next);
        }
        let lease = now + self.policy().lease_ms;
        if !writer
            .begin_attempt(Run::one(row.id), token, lease, None, false)
            .await?
        {
            return Ok(Flow::Stop);
        }
        let MemberRole { guild, user, role } = target;
        let grant = action == Action::Grant;
        let outcome = self
            .rest
            .member_role(grant, guild, user, role, reason)
            .await;
        let done = |verb: &str| {
            format!(
                "{verb} <@&{role}> {} <@{user}>: {reason}.",
                if grant { "to" } else { "from" }
            )
        };
        match outcome {
            Ok(()) => {
                writer
                    .mark_delivered(Run::one(row.id), token, None, self.state.clock().now_ms())
                    .await?;
                tracing::info!(
                    change = row.id,
                    user,
                    role,
                    "role {}",
                    if grant { "granted" } else { "removed" }
                );
                self.staff_log(&done(if grant { "Gave" } else { "Took" }))
                    .await;
                Ok(Flow::Next)
            }
            Err(PostError::Refused { code, .. }) if code == UNKNOWN_MEMBER => {
                writer
                    .mark_delivered(Run::one(row.id), token, None, self.state.clock().now_ms())
                    .await?;
                let note = if grant {
                    " They can use /claim after joining."
                } else {
                    ""
                };
                self.staff_log(&format!(
                    "<@{user}> is not in the server, so <@&{role}> was not {} ({reason}).{note}",
                    if grant { "given" } else { "taken" }
                ))
                .await;
                Ok(Flow::Next)
            }
            Err(PostError::Refused { code, .. }) if code == MISSING_PERMISSIONS => {
                self.state
                    .alert(crate::alerts::Alert::PermissionDenied { channel: None });
                let why = format!(
                    "Discord refused to change the role {role} (403, Missing Permissions): give the bot Manage Roles and move the bot's role above the role {role} in Server Settings → Roles, then use /claim again"
                );
                let flow = self.role_give_up(token, row, &why).await?;
                self.staff_log(&format!("⚠️ Could not {} <@&{role}> {} <@{user}>: move the bot's role above <@&{role}> in Server Settings → Roles (and give it Manage Roles).", if grant { "give" } else { "take" }, if grant { "to" } else { "from" })).await;
                Ok(flow)
            }
            Err(PostError::Refused { code, .. }) if code == UNKNOWN_ROLE => {
                let why = format!("the role {role} does not exist in the server: fix its id in roles of config.json");
                let flow = self.role_give_up(token, row, &why).await?;
                self.staff_log(&format!(
                    "⚠️ The role {role} in config.json does not exist in this server."
                ))
                .await;
                Ok(flow)
            }
            Err(e @ PostError::Refused { .. }) => {
                let why = e.to_string();
                self.role_give_up(token, row, &why).await
            }
            Err(e) => self.role_failed(token, row, e).await,
        }
    }

    async fn role_failed(
        &self,
        token: &str,
        row: &Claimed,
        error: PostError,
    ) -> Result<Flow, DbError> {
        let failure = match &error {
            PostError::RateLimited(wait) => Failure::RateLimited(*wait),
            PostError::Refused { .. } => {
                let why = error.to_string();
                return self.role_give_up(token, row, &why).await;
            }
            _ => Failure::Transient,
        };
        let now = self.state.clock().now_ms();
        let jitter = rand::thread_rng().gen_range(0.5..=1.0);
        let attempts = row.attempts + 1;
        let text = error.to_string();
        match self
            .policy()
            .after_failure(failure, attempts, now - row.created_at, jitter)
        {
            Next::RetryInMs(wait) => {
                tracing::warn!(
                    change = row.id,
                    attempt = attempts,
                    "role change failed ({text}), retrying in {wait} ms"
                );
                self.state
                    .writer()
                    .retry_at(Run::one(row.id), token, now + wait, &text, false)
                    .await?;
                Ok(Flow::Stop)
            }
            Next::GiveUp => {
                let why = format!("gave up after {attempts} attempt(s): {text}");
                self.role_give_up(token, row, &why).await
            }
        }
    }

    async fn role_give_up(&self, token: &str, row: &Claimed, why: &str) -> Result<Flow, DbError> {
        self.state
            .writer()
            .dead_letter(Run::one(row.id), token, why)
            .await?;
        tracing::error!(
            change = row.id,
            event = row.event_id,
            "role change dead-lettered: {why}"
        );
        Ok(Flow::Next)
    }

    /// A line for staff in `roles.logChannelId`. Best effort: the change itself is recorded.
    pub(super) async fn staff_log(&self, text: &str) {
        let Some(channel) = self.state.config().roles.log_channel_id else {
            return;
        };
        if let Err(e) = self.rest.post_text(channel, text).await {
            tracing::warn!("cannot write to the roles log channel: {e}");
        }
    }
}
