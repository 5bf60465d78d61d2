-- Indicators that name actors, malware or campaigns (block 4): the threat
-- register links them to actors on every read; a partial index finds the
-- few among many without reading every indicator.
CREATE INDEX intel_indicators_related ON intel_indicators (tenant) WHERE related <> '[]';
