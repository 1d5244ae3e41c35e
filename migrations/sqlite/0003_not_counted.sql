-- Events whose figures are out of range are kept for the record with the reason, never counted.
ALTER TABLE events ADD COLUMN not_counted TEXT;

