-- One purchase, one sale. A store may describe one purchase twice (Xsolla sends `payment` and
-- `order_paid`, and `refund` and `order_canceled`): the second event is kept for the record with
-- the id of the event that holds the purchase, and is never listed, counted or announced again.
ALTER TABLE events ADD COLUMN merged_into BIGINT;

-- Chargebacks and fraud ('chargeback' or 'fraud'), counted on their own line in /stats.
ALTER TABLE refunds ADD COLUMN risk TEXT;

-- A refund of the whole purchase: told twice, it counts once. Partial refunds each count.
ALTER TABLE refunds ADD COLUMN whole_purchase BOOLEAN NOT NULL DEFAULT FALSE;
CREATE UNIQUE INDEX refunds_one_whole ON refunds (provider, sale_external_id) WHERE whole_purchase;
CREATE INDEX refunds_by_risk ON refunds (occurred_at) WHERE risk IS NOT NULL;
