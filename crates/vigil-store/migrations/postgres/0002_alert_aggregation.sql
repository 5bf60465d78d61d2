-- Alert aggregation and suppression: an alert for the same detector, rule
-- and entities as an alert seen within the aggregation window increments
-- that alert's `hits` and `last_seen` instead of opening a new one; an
-- alert matching an active suppression is not opened and counts on the
-- suppression. `alert_merged` remembers every alert id folded away so that
-- re-evaluating events after a crash never counts it twice.
ALTER TABLE alerts ADD COLUMN agg_key TEXT;
ALTER TABLE alerts ADD COLUMN hits BIGINT NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN last_seen BIGINT;
CREATE INDEX alerts_agg ON alerts (tenant, agg_key, last_seen);
CREATE TABLE alert_merged (
    id          TEXT COLLATE "C" PRIMARY KEY,
    tenant      TEXT NOT NULL,
    into_id     TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE TABLE suppressions (
    tenant      TEXT NOT NULL,
    id          TEXT NOT NULL,
    matcher     JSONB NOT NULL,
    reason      TEXT NOT NULL,
    author      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    hits        BIGINT NOT NULL DEFAULT 0,
    last_hit    BIGINT,
    PRIMARY KEY (tenant, id)
);
