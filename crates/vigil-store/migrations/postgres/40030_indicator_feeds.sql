-- Indicators by feed (block 4): one row per (feed, indicator) that the
-- indicator's provenance names, with the indicator's valid_until, kept by
-- upsert_indicators. The console's feed list counts a feed's indicators
-- (and the expired ones) from its index instead of unpacking every
-- indicator's provenance, and the indicator search filters by feed with a
-- key lookup. An entry without a feed name counts under ''.
CREATE TABLE intel_indicator_feeds (
    tenant       TEXT NOT NULL REFERENCES tenants (id),
    feed         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    valid_until  BIGINT,
    PRIMARY KEY (tenant, feed, kind, value)
);
CREATE INDEX intel_indicator_feeds_expiry ON intel_indicator_feeds (tenant, feed, valid_until);
CREATE INDEX intel_indicator_feeds_indicator ON intel_indicator_feeds (tenant, kind, value);
INSERT INTO intel_indicator_feeds (tenant, feed, kind, value, valid_until)
SELECT DISTINCT i.tenant, COALESCE(p ->> 'feed', ''), i.kind, i.value, i.valid_until
FROM intel_indicators AS i, jsonb_array_elements(i.provenance) AS p;
