-- Assets linked to the hosts seen in events: how each asset came to exist
-- (`manual` for the CLI, API and CSV import; `seen_in_events` when event
-- discovery created it) and when events last named it.
ALTER TABLE assets ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE assets ADD COLUMN last_seen INTEGER;
