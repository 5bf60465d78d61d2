-- A feed's parser options (block 4): for csv feeds, the column mapping
-- (vigil_intel::list::ListFormat as JSON).
ALTER TABLE intel_feeds ADD COLUMN options JSONB;
