-- Hourly roll-ups so stats over years of history read thousands of rows, not millions.
-- Kept in step with `sales` and `refunds` in the same transaction as each event.
-- hour: unix milliseconds of the start of the UTC hour.

CREATE TABLE hourly_money (
    hour         BIGINT  NOT NULL,
    provider     TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    sales        BIGINT  NOT NULL DEFAULT 0,
    gross_minor  BIGINT  NOT NULL DEFAULT 0,
    fees_minor   BIGINT  NOT NULL DEFAULT 0,
    refunds      BIGINT  NOT NULL DEFAULT 0,
    refund_minor BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, provider, currency)
);

CREATE TABLE hourly_products (
    hour     BIGINT NOT NULL,
    provider TEXT   NOT NULL,
    product  TEXT   NOT NULL,
    orders   BIGINT NOT NULL DEFAULT 0,
    quantity BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, provider, product)
);

INSERT INTO hourly_money (hour, provider, currency, sales, gross_minor, fees_minor)
SELECT (occurred_at / 3600000) * 3600000, provider, currency, COUNT(*), SUM(total_minor), SUM(COALESCE(fees_minor, 0))
FROM sales GROUP BY 1, 2, 3;

INSERT INTO hourly_money (hour, provider, currency, refunds, refund_minor)
SELECT (occurred_at / 3600000) * 3600000, provider, currency, COUNT(*), SUM(amount_minor)
FROM refunds WHERE TRUE GROUP BY 1, 2, 3
ON CONFLICT (hour, provider, currency) DO UPDATE SET
    refunds = excluded.refunds, refund_minor = excluded.refund_minor;

INSERT INTO hourly_products (hour, provider, product, orders, quantity)
SELECT (s.occurred_at / 3600000) * 3600000, s.provider, i.product_name, COUNT(DISTINCT s.event_id), SUM(i.quantity)
FROM sale_items i JOIN sales s ON s.event_id = i.sale_event_id GROUP BY 1, 2, 3;

CREATE INDEX events_by_provider_time ON events (provider, occurred_at);
CREATE INDEX subscriptions_by_status ON subscriptions (status);
