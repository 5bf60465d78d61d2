-- Threat intelligence (block 4): indicators (one row per type + normalised
-- value, every provenance kept), STIX objects by version, relationships,
-- and configured feeds with their health.
CREATE TABLE intel_indicators (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    kind            TEXT NOT NULL,
    value           TEXT NOT NULL,
    confidence      SMALLINT NOT NULL,
    tlp             TEXT,
    valid_from      INTEGER,
    valid_until     INTEGER,
    labels          TEXT NOT NULL,
    techniques      TEXT NOT NULL,
    related         TEXT NOT NULL,
    markings        TEXT NOT NULL,
    kill_chain      TEXT NOT NULL,
    provenance      TEXT NOT NULL,
    first_seen      INTEGER,
    last_seen       INTEGER,
    feed_sightings  INTEGER NOT NULL DEFAULT 0,
    sightings       INTEGER NOT NULL DEFAULT 0,
    last_sighting   INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, value)
);
CREATE INDEX intel_indicators_valid_until ON intel_indicators (tenant, valid_until);

CREATE TABLE intel_objects (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    modified        INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    spec_version    TEXT NOT NULL,
    name            TEXT,
    revoked         BOOLEAN NOT NULL DEFAULT FALSE,
    source          TEXT NOT NULL,
    body            TEXT NOT NULL,
    added_at        INTEGER NOT NULL,
    PRIMARY KEY (tenant, id, modified)
);
CREATE INDEX intel_objects_kind ON intel_objects (tenant, kind);

CREATE TABLE intel_relationships (
    tenant            TEXT NOT NULL REFERENCES tenants (id),
    id                TEXT NOT NULL,
    modified          INTEGER NOT NULL,
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
    last_run        INTEGER,
    last_success    INTEGER,
    status          TEXT NOT NULL,
    last_error      TEXT,
    objects         INTEGER NOT NULL DEFAULT 0,
    added           INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    errors          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);
