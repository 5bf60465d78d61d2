-- Sigma rule management: every known rule (built-in pack, configured
-- directories, API uploads) with its enabled state and per-rule overrides.
CREATE TABLE rules (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    title           TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('builtin', 'dir', 'api')),
    path            TEXT NOT NULL,
    level           TEXT,
    tags            JSONB NOT NULL,
    content         TEXT,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    level_override  TEXT,
    tags_override   JSONB,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
