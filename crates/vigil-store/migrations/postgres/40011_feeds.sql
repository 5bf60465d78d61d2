-- Configured intel feeds (block 4): schedule, defaults, conditional-GET
-- validators, the TAXII client's cursor, credentials (a secret's name) and
-- the expiry count of the last run. The health columns are in 40001.
ALTER TABLE intel_feeds ADD COLUMN interval_secs BIGINT NOT NULL DEFAULT 3600;
ALTER TABLE intel_feeds ADD COLUMN default_confidence BIGINT;
ALTER TABLE intel_feeds ADD COLUMN default_tlp TEXT;
ALTER TABLE intel_feeds ADD COLUMN auth TEXT NOT NULL DEFAULT 'none';
ALTER TABLE intel_feeds ADD COLUMN secret TEXT;
ALTER TABLE intel_feeds ADD COLUMN etag TEXT;
ALTER TABLE intel_feeds ADD COLUMN last_modified TEXT;
ALTER TABLE intel_feeds ADD COLUMN cursor TEXT;
ALTER TABLE intel_feeds ADD COLUMN expired BIGINT NOT NULL DEFAULT 0;
ALTER TABLE intel_feeds ADD COLUMN configured BOOLEAN NOT NULL DEFAULT FALSE;
