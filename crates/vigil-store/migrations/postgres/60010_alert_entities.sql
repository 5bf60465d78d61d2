-- Related alerts (respond block, 60010): one row per alert and linkable
-- entity (host, user, source/destination IP, process, file hash, domain),
-- indexed by (kind, value) so the alerts sharing an entity with a given one
-- are read newest first without scanning alerts. Rows come from the change
-- feed (`alert`/`create`, consumer `changes:alert_entities`), not from the
-- detection commit, so ingest pays nothing for it; alerts that exist now
-- are backfilled here and the consumer starts after them.
CREATE TABLE alert_entities (
    tenant      TEXT NOT NULL,
    alert_id    TEXT NOT NULL,
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, alert_id, kind)
);
CREATE INDEX alert_entities_by_value ON alert_entities (tenant, kind, value, created_at);
INSERT INTO alert_entities (tenant, alert_id, kind, value, created_at)
SELECT tenant, id, 'host', (entities->>'host'), created_at FROM alerts
WHERE (entities->>'host') IS NOT NULL AND (entities->>'host') <> '' AND length((entities->>'host')) <= 1000
ON CONFLICT DO NOTHING;
INSERT INTO alert_entities (tenant, alert_id, kind, value, created_at)
SELECT tenant, id, 'user', (entities->>'user'), created_at FROM alerts
WHERE (entities->>'user') IS NOT NULL AND (entities->>'user') <> '' AND length((entities->>'user')) <= 1000
ON CONFLICT DO NOTHING;
INSERT INTO alert_entities (tenant, alert_id, kind, value, created_at)
SELECT tenant, id, 'source_ip', (entities->>'source_ip'), created_at FROM alerts
WHERE (entities->>'source_ip') IS NOT NULL AND (entities->>'source_ip') <> '' AND length((entities->>'source_ip')) <= 1000
ON CONFLICT DO NOTHING;
INSERT INTO alert_entities (tenant, alert_id, kind, value, created_at)
SELECT tenant, id, 'destination_ip', (entities->>'destination_ip'), created_at FROM alerts
WHERE (entities->>'destination_ip') IS NOT NULL AND (entities->>'destination_ip') <> '' AND length((entities->>'destination_ip')) <= 1000
ON CONFLICT DO NOTHING;
INSERT INTO checkpoints (consumer, seq, updated_at)
SELECT 'changes:alert_entities', COALESCE(MAX(seq), 0), 0 FROM changes WHERE 1 = 1
ON CONFLICT (consumer) DO NOTHING;
