-- Exactly-once delivery across instances and lost answers.
-- claim_token:     the claim a notice belongs to; re-checked before every post, so a notice whose
--                  lease ran out and was taken over by another instance is never posted by both.
-- post_started_at: set (durably) just before a post to a webhook URL, cleared once the outcome is
--                  known. Still set on a later claim means the answer was lost: the bot looks for the
--                  message in the webhook's channel before posting again.
-- blind_reposts:   posts made while such an outcome could not be checked (at most one).
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
ALTER TABLE outbox ADD COLUMN post_started_at BIGINT;
ALTER TABLE outbox ADD COLUMN blind_reposts BIGINT NOT NULL DEFAULT 0;
-- A destination's queue in order: a notice waits while an earlier one to the same place is pending.
CREATE INDEX outbox_pending_by_destination ON outbox (destination, id) WHERE status = 'pending';
CREATE INDEX outbox_by_claim ON outbox (claim_token) WHERE claim_token IS NOT NULL;
