-- Times are unix milliseconds (UTC); money is integer minor units with its ISO currency code.

CREATE TABLE events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    provider        TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    event_type      TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    external_id     TEXT    NOT NULL,
    occurred_at     INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    is_test         BOOLEAN NOT NULL DEFAULT FALSE,
    amount_minor    INTEGER,
    currency        TEXT,
    data            TEXT    NOT NULL,
    raw             TEXT    NOT NULL,
    UNIQUE (provider, idempotency_key)
);
CREATE INDEX events_by_time ON events (occurred_at);
CREATE INDEX events_by_kind_time ON events (kind, occurred_at);

CREATE TABLE sales (
    event_id       INTEGER PRIMARY KEY REFERENCES events (id),
    provider       TEXT    NOT NULL,
    external_id    TEXT    NOT NULL,
    occurred_at    INTEGER NOT NULL,
    total_minor    INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    fees_minor     INTEGER,
    payment_method TEXT,
    UNIQUE (provider, external_id)
);
CREATE INDEX sales_by_time ON sales (occurred_at, currency);

CREATE TABLE sale_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sale_event_id INTEGER NOT NULL REFERENCES sales (event_id),
    product_id    TEXT,
    product_name  TEXT    NOT NULL,
    quantity      INTEGER NOT NULL,
    variant       TEXT,
    amount_minor  INTEGER
);
CREATE INDEX sale_items_by_sale ON sale_items (sale_event_id);

CREATE TABLE sale_coupons (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sale_event_id INTEGER NOT NULL REFERENCES sales (event_id),
    code          TEXT    NOT NULL,
    percentage    TEXT,
    amount_minor  INTEGER
);
CREATE INDEX sale_coupons_by_sale ON sale_coupons (sale_event_id);

CREATE TABLE refunds (
    event_id         INTEGER PRIMARY KEY REFERENCES events (id),
    provider         TEXT    NOT NULL,
    sale_external_id TEXT    NOT NULL,
    -- NULL when the refund arrived before (or without) its sale; sale_external_id still links it.
    sale_event_id    INTEGER REFERENCES sales (event_id),
    occurred_at      INTEGER NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT    NOT NULL
);
CREATE INDEX refunds_by_time ON refunds (occurred_at, currency);
CREATE INDEX refunds_by_sale ON refunds (provider, sale_external_id);

CREATE TABLE subscriptions (
    provider        TEXT    NOT NULL,
    subscription_id TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    plan            TEXT,
    product         TEXT,
    started_at      INTEGER,
    cancelled_at    INTEGER,
    updated_at      INTEGER NOT NULL,
    last_event_id   INTEGER NOT NULL REFERENCES events (id),
    PRIMARY KEY (provider, subscription_id)
);

-- One row per notice and destination ("channel:<id>" or "webhook:<url>").
-- status: pending | delivered | preview | dead
CREATE TABLE outbox (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id           INTEGER NOT NULL REFERENCES events (id),
    destination        TEXT    NOT NULL,
    status             TEXT    NOT NULL DEFAULT 'pending',
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    INTEGER NOT NULL,
    lease_until        INTEGER,
    last_error         TEXT,
    discord_message_id TEXT,
    created_at         INTEGER NOT NULL,
    delivered_at       INTEGER
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
