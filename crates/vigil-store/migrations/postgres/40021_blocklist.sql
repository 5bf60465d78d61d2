-- Manual blocklist entries (block 4): values an analyst or a response
-- playbook blocks for a while, with a reason; served beside the indicators
-- on the plain-text blocklists. One row per tenant + type + value.
CREATE TABLE intel_blocklist (
    tenant      TEXT NOT NULL REFERENCES tenants (id),
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    PRIMARY KEY (tenant, kind, value)
);
CREATE INDEX intel_blocklist_expires ON intel_blocklist (tenant, expires_at);
