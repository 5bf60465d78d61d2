-- Threat register (block 7): the organisation profile, imported MISP galaxy
-- clusters, threat scenarios with their review cycle, and the history of
-- scenario scores.
CREATE TABLE threat_profiles (
    tenant      TEXT NOT NULL REFERENCES tenants (id),
    body        JSONB NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (tenant)
);

CREATE TABLE threat_galaxy_clusters (
    tenant      TEXT NOT NULL REFERENCES tenants (id),
    galaxy      TEXT NOT NULL,
    uuid        TEXT NOT NULL,
    value       TEXT NOT NULL,
    body        JSONB NOT NULL,
    source      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, galaxy, uuid)
);

CREATE TABLE threat_scenarios (
    tenant       TEXT NOT NULL REFERENCES tenants (id),
    id           TEXT NOT NULL,
    title        TEXT NOT NULL,
    spec         JSONB NOT NULL,
    owner        TEXT,
    status       TEXT NOT NULL CHECK (status IN ('open', 'treated', 'accepted', 'transferred')),
    next_review  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX threat_scenarios_review ON threat_scenarios (tenant, next_review);

CREATE TABLE threat_score_history (
    tenant      TEXT NOT NULL REFERENCES tenants (id),
    scenario    TEXT NOT NULL,
    at          BIGINT NOT NULL,
    likelihood  BIGINT NOT NULL, -- hundredths (0-10000)
    impact      BIGINT NOT NULL, -- hundredths
    risk        BIGINT NOT NULL,
    inputs      JSONB NOT NULL,
    PRIMARY KEY (tenant, scenario, at)
);
