-- Notices posted together as one message (up to ten embeds, or a summary past a backlog) carry the
-- first one's id here from their first attempt on. A retry after a lost answer then posts exactly
-- the same set under the same nonce or reference, so Discord's answer (or the bot's look in the
-- channel) settles all of them at once and none is posted twice or marked posted unseen.
ALTER TABLE outbox ADD COLUMN message_group INTEGER;
CREATE INDEX outbox_by_group ON outbox (message_group) WHERE message_group IS NOT NULL;
