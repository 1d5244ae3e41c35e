-- Webhooks refused for their signature that are the store's event all the same: kept apart, so a
-- seller who changed the store's key and not the bot's can take those sales in once the bot has
-- the new key (`integrations-bot replay-rejected`). Never counted, never announced. Bounded in
-- count and bytes (webhookConfig.rejectedBodiesKept / rejectedBytesKept): the oldest go first.
--
-- headers: a JSON array of [name, value] pairs, only those that carry the signature.
-- body: as received, except a secret-equivalent value (Payhip's signature) replaced by its hash.
CREATE TABLE rejected_bodies (
    id          BIGSERIAL PRIMARY KEY,
    provider    TEXT    NOT NULL,
    headers     TEXT    NOT NULL,
    body        BYTEA   NOT NULL,
    bytes       BIGINT  NOT NULL,
    received_at BIGINT  NOT NULL
);
