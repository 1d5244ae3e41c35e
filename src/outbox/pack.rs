//! What the next message to a place carries, when it has more than one notice waiting: up to ten
//! notices as one message, or past `delivery.summaryBacklog` waiting a summary per minute. The
//! shapes are pure ([`crate::notice::batch`]); this picks the rows. A set once tried goes out
//! again exactly as it was (see `message_group`), so each notice is still posted once.

use super::roles::is_role_row;
use super::worker::Inner;
use crate::config::Config;
use crate::db::{Claimed, DbError};
use crate::domain::Event;
use crate::notice::batch::{self, Summarized, EMBEDS_MAX};
use crate::notice::message::Message;

impl Inner {
    /// The next message for the front of `rows`, whose first notice renders as `first`: how many
    /// rows it carries (at least one) and the message.
    pub(super) async fn pack(
        &self,
        rows: &[Claimed],
        first: Message,
        config: &Config,
    ) -> Result<(usize, Message), DbError> {
        let Some(head) = rows.first() else {
            return Ok((0, first));
        };
        // One queue, one destination: a public feed's rows are all public.
        let public = crate::notice::destination::split_public(&head.destination).0;
        // Notices that can share the head's message: announced, readable, and tied to the same
        // earlier message as the head (or, like it, to none yet).
        let mut renders = vec![first];
        let mut events: Vec<&Event> = head.event.as_ref().into_iter().collect();
        for row in &rows[1..] {
            let event = match &row.event {
                Ok(e)
                    if row.message_group == head.message_group
                        && !is_role_row(&row.destination) =>
                {
                    e
                }
                _ => break,
            };
            let Some(message) = self.render(event, config, public) else {
                break;
            };
            renders.push(message);
            events.push(event);
            if head.message_group.is_none() && renders.len() >= EMBEDS_MAX {
                // Enough to fill a message; the backlog check below decides on a summary.
                break;
            }
        }
        if head.message_group.is_some() {
            // Tried before as exactly these notices: post exactly them again.
            let n = renders.len();
            if batch::fits(&renders) == n {
                return Ok((n, batch::combine(renders)));
            }
            return Ok((n, self.summary(&rows[..n], &events, config, public)));
        }
        if renders.len() > 1 && self.far_behind(&head.destination, config).await? {
            let n = self.summary_len(rows, config);
            let events: Vec<&Event> = rows[..n]
                .iter()
                .filter_map(|r| r.event.as_ref().ok())
                .collect();
            return Ok((n, self.summary(&rows[..n], &events, config, public)));
        }
        let n = batch::fits(&renders);
        renders.truncate(n);
        Ok((n, batch::combine(renders)))
    }

    /// Whether more notices wait for `destination` than `delivery.summaryBacklog`.
    async fn far_behind(&self, destination: &str, config: &Config) -> Result<bool, DbError> {
        let limit = config.delivery.summary_backlog;
        if limit == 0 {
            return Ok(false);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX - 1);
        let waiting = self.state.store().backlog(destination, limit + 1).await?;
        Ok(waiting > limit)
    }

    /// How many rows from the front one summary lists: those of the head's minute that can share
    /// its message, as many as the summary shows in full.
    fn summary_len(&self, rows: &[Claimed], config: &Config) -> usize {
        let Some(head) = rows.first() else {
            return 0;
        };
        let minute = head.created_at.div_euclid(60_000);
        let public = crate::notice::destination::split_public(&head.destination).0;
        let items: Vec<Summarized> = rows
            .iter()
            .take_while(|r| {
                r.message_group.is_none()
                    && r.created_at.div_euclid(60_000) == minute
                    && !is_role_row(&r.destination)
                    && r.event
                        .as_ref()
                        .is_ok_and(|e| self.render(e, config, public).is_some())
            })
            .filter_map(|r| r.event.as_ref().ok().and_then(|e| summarized(e, public)))
            .collect();
        batch::summary_fits(&items).max(1)
    }

    fn summary(
        &self,
        rows: &[Claimed],
        events: &[&Event],
        config: &Config,
        public: bool,
    ) -> Message {
        let items: Vec<Summarized> = events
            .iter()
            .filter_map(|e| summarized(e, public))
            .collect();
        let minute_ms = rows
            .first()
            .map_or(0, |r| r.created_at.div_euclid(60_000) * 60_000);
        let minute = chrono::DateTime::from_timestamp_millis(minute_ms).unwrap_or_default();
        let color = items
            .first()
            .map_or(0, |i| config.embed_colors.for_kind(i.kind).0);
        batch::summary(&items, minute, !public, color)
    }
}

/// An announced event as a summary line; on a public feed, its product instead of its id, and
/// no amount.
fn summarized(event: &Event, public: bool) -> Option<Summarized> {
    let kind = event.kind.notice_kind()?;
    if public {
        return Some(Summarized {
            kind,
            id: event.product_summary()?,
            amount: None,
            test: event.test,
        });
    }
    Some(Summarized {
        kind,
        id: event.external_id.clone(),
        amount: event.amount().cloned(),
        test: event.test,
    })
}
