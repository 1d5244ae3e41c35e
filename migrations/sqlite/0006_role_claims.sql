-- Discord roles given for purchases.
--
-- role_claims: one purchase bound to one member. purchase is the sale's transaction id, the
-- subscription id, or 'license:<hash of the key>' for a key Payhip vouches for but whose sale the
-- bot never received. event_id is the stored event the role changes are queued under.
-- status: live | ended (refunded, charged back, cancelled) | unbound (staff freed it).
CREATE TABLE role_claims (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    provider     TEXT    NOT NULL,
    purchase     TEXT    NOT NULL,
    event_id     BIGINT  NOT NULL REFERENCES events (id),
    guild_id     BIGINT  NOT NULL,
    user_id      BIGINT  NOT NULL,
    -- The role ids this purchase gives, separated by spaces.
    roles        TEXT    NOT NULL,
    via          TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'live',
    ended_reason TEXT,
    claimed_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    UNIQUE (provider, purchase)
);
CREATE INDEX role_claims_by_member ON role_claims (guild_id, user_id, status);

-- What an outbox row to 'role:<guild>:<user>:<role>' does. Such rows queue per member and role
-- like notices per channel, so a removal never overtakes the grant before it.
CREATE TABLE role_changes (
    outbox_id BIGINT  PRIMARY KEY REFERENCES outbox (id),
    action    TEXT    NOT NULL,
    reason    TEXT    NOT NULL
);
