-- Digests: one row per digest and period, keyed 'day:<channel>:<first local day>' (or 'week:…'),
-- so a period is posted at most once whatever the restarts and the number of instances.
-- status: claimed (one instance is posting it until lease_until) | posted | skipped (the period
-- ended before the digest was set up) | failed (Discord refused it; not tried again).
-- attempt counts claims: the one that posts marks the row under its own attempt number.
CREATE TABLE digests (
    key         TEXT    PRIMARY KEY,
    schedule    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 1,
    lease_until INTEGER NOT NULL,
    late        BOOLEAN NOT NULL DEFAULT FALSE,
    message_id  TEXT,
    created_at  INTEGER NOT NULL,
    posted_at   INTEGER
);
CREATE INDEX digests_by_schedule ON digests (schedule);
