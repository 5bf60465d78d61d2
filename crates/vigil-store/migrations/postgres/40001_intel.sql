-- Threat intelligence (block 4): indicators (one row per type + normalised
-- value, every provenance kept), STIX objects by version, relationships,
-- and configured feeds with their health.
CREATE TABLE intel_indicators (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    confidence      SMALLINT NOT NULL,
    tlp             TEXT,
    valid_from      BIGINT,
    valid_until     BIGINT,
    labels          JSONB NOT NULL,
    techniques      JSONB NOT NULL,
    related         JSONB NOT NULL,
    markings        JSONB NOT NULL,
    kill_chain      JSONB NOT NULL,
    provenance      JSONB NOT NULL,
    first_seen      BIGINT,
    last_seen       BIGINT,
    feed_sightings  BIGINT NOT NULL DEFAULT 0,
    sightings       BIGINT NOT NULL DEFAULT 0,
    last_sighting   BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, kind, value)
);
CREATE INDEX intel_indicators_valid_until ON intel_indicators (tenant, valid_until);

CREATE TABLE intel_objects (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    modified        BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    spec_version    TEXT NOT NULL,
    name            TEXT,
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    source          TEXT NOT NULL,
    body            JSONB NOT NULL,
    added_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant, id, modified)
);
CREATE INDEX intel_objects_kind ON intel_objects (tenant, kind);

CREATE TABLE intel_relationships (
    tenant            TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    modified          BIGINT NOT NULL,
    relationship_type TEXT NOT NULL,
    source_ref        TEXT NOT NULL,
    target_ref        TEXT NOT NULL,
    PRIMARY KEY (tenant, id, modified)
);
CREATE INDEX intel_relationships_source ON intel_relationships (tenant, source_ref);
CREATE INDEX intel_relationships_target ON intel_relationships (tenant, target_ref);

CREATE TABLE intel_feeds (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    location        TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    last_run        BIGINT,
    last_success    BIGINT,
    status          TEXT NOT NULL,
    last_error      TEXT,
    objects         BIGINT NOT NULL DEFAULT 0,
    added           BIGINT NOT NULL DEFAULT 0,
    updated         BIGINT NOT NULL DEFAULT 0,
    errors          BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);
