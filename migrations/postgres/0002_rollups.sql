-- Roll-ups so stats over years of history read a few thousand rows, not millions. Kept in step
-- with `sales` and `refunds` in the same transaction as each event, at three grains:
-- 'h' (UTC hour), 'd' (UTC day), 'm' (UTC month); bucket = unix ms of the bucket's start.
-- Any period whose ends fall on whole hours is summed exactly from them; minutes at the ends
-- come from the raw tables.

CREATE TABLE rollup_money (
    grain        TEXT   NOT NULL,
    bucket       BIGINT NOT NULL,
    provider     TEXT   NOT NULL,
    currency     TEXT   NOT NULL,
    sales        BIGINT NOT NULL DEFAULT 0,
    gross_minor  BIGINT NOT NULL DEFAULT 0,
    fees_minor   BIGINT NOT NULL DEFAULT 0,
    refunds      BIGINT NOT NULL DEFAULT 0,
    refund_minor BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, bucket, provider, currency)
);

CREATE TABLE rollup_products (
    grain    TEXT   NOT NULL,
    bucket   BIGINT NOT NULL,
    provider TEXT   NOT NULL,
    product  TEXT   NOT NULL,
    orders   BIGINT NOT NULL DEFAULT 0,
    quantity BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, bucket, provider, product)
);

CREATE INDEX events_by_provider_time ON events (provider, occurred_at);
CREATE INDEX subscriptions_by_status ON subscriptions (status);
