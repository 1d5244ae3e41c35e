//! One notice to one destination: render it, re-check the claim, post it and record the outcome.
//! A post to a webhook URL is recorded as started before it goes out; when its answer is lost the
//! next attempt first looks for the message in the webhook's channel, and when the bot cannot look,
//! posts again at most once.

use std::time::Duration;

use rand::Rng;

use super::hint::fix_hint;
use super::lost::{mark, notice_ref};
use super::policy::{Failure, Next, Policy};
use super::worker::Inner;
use crate::config::Config;
use crate::db::{Claimed, DbError, Run};
use crate::discord::rest::{LookupError, PostError, Target};
use crate::domain::Event;
use crate::notice::destination::Destination;
use crate::notice::embed::{self, Style};
use crate::notice::message::Message;

/// A pace shorter than this is slept in place; a longer one reschedules the destination.
const SLEEP_PACE_MS: i64 = 1_000;

pub(super) enum Flow {
    /// Go on with this destination's next notice.
    Next,
    /// This destination waits; the rest of its queue is given back.
    Stop,
}

impl Inner {
    /// Delivers the next message from the front of `rows` (one destination's claimed queue, in
    /// order): one notice, several packed into one message, or a summary. Returns how many rows
    /// it settled (given up on, posted or rescheduled) and whether to go on with the rest.
    #[tracing::instrument(name = "deliver", skip_all, fields(notice = rows.first().map(|r| r.id)))]
    pub(super) async fn deliver(
        &self,
        token: &str,
        rows: &[Claimed],
    ) -> Result<(usize, Flow), DbError> {
        let Some(row) = rows.first() else {
            return Ok((0, Flow::Stop));
        };
        let one = std::slice::from_ref(row);
        if super::roles::is_role_row(&row.destination) {
            return Ok((1, self.deliver_role_row(token, row).await?));
        }
        let config = self.state.config();
        let event = match &row.event {
            Ok(event) => event,
            Err(why) => return Ok((1, self.give_up(token, one, why).await?)),
        };
        let (public, stored) = crate::notice::destination::split_public(&row.destination);
        let Some(destination) = Destination::parse(stored) else {
            let flow = self
                .give_up(token, one, "its destination cannot be read")
                .await?;
            return Ok((1, flow));
        };
        let Some(message) = self.render(event, &config, public) else {
            // Not an announced kind: nothing to post.
            let now = self.state.clock().now_ms();
            self.state
                .writer()
                .mark_delivered(Run::one(row.id), token, None, now)
                .await?;
            return Ok((1, Flow::Next));
        };
        if let (Destination::Channel(id), false) = (&destination, self.rest.has_token()) {
            // Not println!: a closed stdout (a pipe whose reader left) must not panic the
            // delivery loop; the notice is recorded as previewed either way.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stdout(),
                "── preview: notice {} for channel {id} (no DISCORD_TOKEN set) ──\n{}",
                row.id,
                message.to_text(config.discord_config.tz())
            );
            let now = self.state.clock().now_ms();
            self.state
                .writer()
                .mark_previewed(row.id, token, now)
                .await?;
            return Ok((1, Flow::Next));
        }
        let (n, message) = self.pack(rows, message, &config).await?;
        let group = &rows[..n];
        Ok((n, self.send(token, group, &destination, message).await?))
    }

    /// Posts one message for `group`, making sure a message whose answer was lost is not posted
    /// twice: a channel drops a repeat of the first notice's nonce; for a webhook URL the bot
    /// looks for the message's reference in the channel first.
    async fn send(
        &self,
        token: &str,
        group: &[Claimed],
        destination: &Destination,
        mut message: Message,
    ) -> Result<Flow, DbError> {
        let Some(row) = group.first() else {
            return Ok(Flow::Next);
        };
        let hook = match destination {
            Destination::Channel(_) => {
                // Discord drops a repeat nonce, so a retry after a lost answer is safe; the
                // rows of one message stay one message, so the nonce names the same set.
                message.nonce = Some(row.id.to_string());
                message.enforce_nonce = Some(true);
                return self.post(token, group, destination, &message, false).await;
            }
            Destination::Webhook(hook) => hook,
        };
        let marker = notice_ref(row);
        mark(&mut message, &marker);
        let mut blind = false;
        if let Some(started) = row.post_started_at {
            match self.look_for(hook, &marker, started).await {
                Ok(Some(found)) => {
                    let now = self.state.clock().now_ms();
                    self.state
                        .writer()
                        .mark_delivered(Run::of(group), token, Some(&found), now)
                        .await?;
                    tracing::info!(notice = row.id, to = %destination, "notice was posted although Discord's answer was lost; not posting it again");
                    return Ok(Flow::Next);
                }
                Ok(None) => {}
                Err(LookupError::CannotRead(why)) if row.blind_reposts >= 1 => {
                    let reason = format!(
                        "Discord's answer to a post was lost twice and the bot cannot check the channel ({why}); \
                         the notice is probably there, so it is not posted a third time"
                    );
                    return self.give_up(token, group, &reason).await;
                }
                Err(LookupError::CannotRead(why)) => {
                    tracing::warn!(notice = row.id, to = %destination, "Discord's answer to a post was lost and the bot cannot check the channel ({why}); posting once more");
                    blind = true;
                }
                Err(LookupError::Failed(why)) => {
                    let failure = Failure::Transient;
                    return self
                        .failed(token, group, destination, failure, row.attempts, &why, true)
                        .await;
                }
            }
        }
        self.post(token, group, destination, &message, blind).await
    }

    async fn post(
        &self,
        token: &str,
        group: &[Claimed],
        destination: &Destination,
        message: &Message,
        blind: bool,
    ) -> Result<Flow, DbError> {
        let Some(row) = group.first() else {
            return Ok(Flow::Next);
        };
        let writer = self.state.writer();
        if !self.wait_for_pace(token, group).await? {
            return Ok(Flow::Stop);
        }
        let policy = self.policy();
        let now = self.state.clock().now_ms();
        let webhook = matches!(destination, Destination::Webhook(_));
        let started = webhook.then_some(now);
        let run = Run::of(group);
        if !writer
            .begin_attempt(run.clone(), token, now + policy.lease_ms, started, blind)
            .await?
        {
            tracing::debug!(
                notice = row.id,
                "not posted: the claim was taken over or an earlier notice to the same place waits"
            );
            return Ok(Flow::Stop);
        }
        let attempts = row.attempts + 1;
        let target = match destination {
            Destination::Channel(id) => Target::Channel(*id),
            Destination::Webhook(w) => Target::Webhook(w),
        };
        let error = match self.rest.post(target, message).await {
            Ok(posted) => {
                let now = self.state.clock().now_ms();
                writer
                    .mark_delivered(run, token, posted.message_id.as_deref(), now)
                    .await?;
                if let Some(pace) = posted.pace {
                    self.set_pace(&row.destination, pace);
                }
                tracing::info!(notice = row.id, notices = group.len(), event = row.event_id, to = %destination, "notice delivered");
                return Ok(Flow::Next);
            }
            Err(e) => e,
        };
        let text = error.to_string();
        match (&error, destination) {
            (PostError::RateLimited(wait), _) => {
                tracing::warn!(notice = row.id, to = %destination, "rate limited by Discord for {wait:?}");
                let failure = Failure::RateLimited(*wait);
                self.failed(token, group, destination, failure, attempts, &text, false)
                    .await
            }
            (PostError::Unauthorized, Destination::Webhook(_)) | (PostError::Refused { .. }, _) => {
                self.state.alert_post_refused(&error, destination);
                let hint = fix_hint(destination, &error);
                self.give_up(token, group, &format!("{text}. {hint}")).await
            }
            _ => {
                let in_doubt = webhook && error.outcome_unknown();
                let failure = Failure::Transient;
                self.failed(
                    token,
                    group,
                    destination,
                    failure,
                    attempts,
                    &text,
                    in_doubt,
                )
                .await
            }
        }
    }

    /// Schedules the next try, or gives up once the budget or the age limit is reached.
    #[allow(clippy::too_many_arguments)]
    async fn failed(
        &self,
        token: &str,
        group: &[Claimed],
        destination: &Destination,
        failure: Failure,
        attempts: i64,
        error: &str,
        in_doubt: bool,
    ) -> Result<Flow, DbError> {
        let Some(row) = group.first() else {
            return Ok(Flow::Next);
        };
        let policy: Policy = self.policy();
        let now = self.state.clock().now_ms();
        let jitter = rand::thread_rng().gen_range(0.5..=1.0);
        match policy.after_failure(failure, attempts, now - row.created_at, jitter) {
            Next::RetryInMs(wait) => {
                tracing::warn!(notice = row.id, notices = group.len(), to = %destination, attempt = attempts, "delivery failed ({error}), retrying in {wait} ms");
                self.state
                    .writer()
                    .retry_at(Run::of(group), token, now + wait, error, in_doubt)
                    .await?;
                Ok(Flow::Stop)
            }
            Next::GiveUp => {
                let mut why = format!("gave up after {attempts} attempt(s): {error}");
                if in_doubt {
                    why.push_str(" (the last post got no answer, so it may have been posted)");
                }
                self.give_up(token, group, &why).await?;
                // The next notice to this place is not held behind a dead one.
                Ok(Flow::Next)
            }
        }
    }

    async fn give_up(&self, token: &str, group: &[Claimed], why: &str) -> Result<Flow, DbError> {
        let Some(row) = group.first() else {
            return Ok(Flow::Next);
        };
        self.state
            .writer()
            .dead_letter(Run::of(group), token, why)
            .await?;
        let to = Destination::parse(crate::notice::destination::split_public(&row.destination).1)
            .map_or_else(|| "an unreadable destination".to_owned(), |d| d.to_string());
        tracing::error!(notice = row.id, notices = group.len(), event = row.event_id, to = %to, "notice dead-lettered: {why}");
        self.state.alert(crate::alerts::Alert::DeadLettered);
        Ok(Flow::Next)
    }

    pub(super) fn render(&self, event: &Event, config: &Config, public: bool) -> Option<Message> {
        let kind = event.kind.notice_kind()?;
        let label = self.state.provider_label(&event.provider);
        if public {
            let color = config.embed_colors.for_kind(kind).0;
            return crate::notice::public::notice(event, color, &label);
        }
        embed::notice(
            event,
            &Style {
                color: config.embed_colors.for_kind(kind).0,
                provider_label: &label,
                show_customer: config.privacy.show_customer,
                template: config.notifications.for_kind(kind).message.as_deref(),
            },
        )
    }

    /// Sleeps out a short pace; reschedules the message (uncounted) past a long one. False: wait.
    async fn wait_for_pace(&self, token: &str, group: &[Claimed]) -> Result<bool, DbError> {
        let Some(row) = group.first() else {
            return Ok(true);
        };
        let until = self
            .paced
            .lock()
            .ok()
            .and_then(|m| m.get(&row.destination).copied());
        let Some(until) = until else {
            return Ok(true);
        };
        let left = until - self.state.clock().now_ms();
        if left <= 0 {
            return Ok(true);
        }
        if left <= SLEEP_PACE_MS {
            tokio::time::sleep(Duration::from_millis(left.unsigned_abs())).await;
            return Ok(true);
        }
        let reason = "waiting for Discord's rate limit";
        let in_doubt = row.post_started_at.is_some();
        self.state
            .writer()
            .retry_at(Run::of(group), token, until, reason, in_doubt)
            .await?;
        Ok(false)
    }

    fn set_pace(&self, destination: &str, pace: Duration) {
        let ms = i64::try_from(pace.min(super::policy::RATE_LIMIT_CAP).as_millis()).unwrap_or(0);
        if let Ok(mut m) = self.paced.lock() {
            m.insert(destination.to_owned(), self.state.clock().now_ms() + ms);
        }
    }
}
