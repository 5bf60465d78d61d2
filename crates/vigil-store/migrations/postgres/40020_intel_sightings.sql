-- Sightings Vigil records itself (block 4): when it first saw an indicator
-- (`sightings` and `last_sighting` exist since 40001).
ALTER TABLE intel_indicators ADD COLUMN first_sighting BIGINT;
