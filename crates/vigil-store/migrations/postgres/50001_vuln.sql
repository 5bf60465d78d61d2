-- Vulnerability management (block 5): assets, their components, findings,
-- and the reference data (OSV records, CISA KEV, EPSS). Reference data is
-- shared by every tenant (public feeds); assets, components and findings
-- carry their tenant.
CREATE TABLE assets (
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('host', 'application')),
    ips             JSONB NOT NULL,
    os              TEXT,
    owner           TEXT,
    criticality     BIGINT NOT NULL CHECK (criticality BETWEEN 1 AND 5),
    exposure        TEXT NOT NULL CHECK (exposure IN ('internet-facing', 'internal', 'isolated')),
    data_classes    JSONB NOT NULL,
    tags            JSONB NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, name)
);
CREATE TABLE asset_components (
    tenant          TEXT NOT NULL,
    asset_id        TEXT NOT NULL,
    source          TEXT NOT NULL,
    purl            TEXT NOT NULL,
    name            TEXT NOT NULL,
    version         TEXT,
    ecosystem       TEXT,
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    PRIMARY KEY (tenant, asset_id, source, purl),
    FOREIGN KEY (tenant, asset_id) REFERENCES assets (tenant, id) ON DELETE CASCADE
);
CREATE TABLE findings (
    tenant          TEXT NOT NULL,
    id              TEXT NOT NULL,
    asset_id        TEXT NOT NULL,
    source          TEXT NOT NULL,
    component       TEXT NOT NULL,
    package         TEXT NOT NULL,
    version         TEXT NOT NULL,
    ecosystem       TEXT NOT NULL,
    vulnerability   TEXT NOT NULL,
    aliases         JSONB NOT NULL,
    summary         TEXT,
    severity        TEXT NOT NULL,
    cvss_vector     TEXT,
    cvss_score      BIGINT,
    fixed_versions  JSONB NOT NULL,
    exploit_refs    BOOLEAN NOT NULL DEFAULT FALSE,
    status          TEXT NOT NULL CHECK (status IN ('open', 'fixed', 'reopened', 'accepted', 'false_positive')),
    first_seen      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    fixed_at        BIGINT,
    since           BIGINT NOT NULL,
    accepted_until  BIGINT,
    reason          TEXT,
    decided_by      TEXT,
    decision        TEXT NOT NULL,
    risk            BIGINT NOT NULL,
    explanation     JSONB NOT NULL,
    sla_due         BIGINT,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, asset_id, source, component, vulnerability),
    FOREIGN KEY (tenant, asset_id) REFERENCES assets (tenant, id) ON DELETE CASCADE
);
CREATE INDEX findings_status ON findings (tenant, status, id);
CREATE TABLE vuln_records (
    id              TEXT PRIMARY KEY,
    aliases         JSONB NOT NULL,
    modified        TEXT,
    summary         TEXT,
    record          TEXT NOT NULL,
    imported_at     BIGINT NOT NULL
);
CREATE TABLE vuln_kev (
    cve             TEXT PRIMARY KEY,
    vendor          TEXT NOT NULL,
    product         TEXT NOT NULL,
    name            TEXT NOT NULL,
    date_added      TEXT NOT NULL,
    due_date        TEXT,
    ransomware      TEXT NOT NULL,
    imported_at     BIGINT NOT NULL
);
CREATE TABLE vuln_epss (
    cve             TEXT PRIMARY KEY,
    score_ppm       BIGINT NOT NULL,
    percentile_ppm  BIGINT NOT NULL,
    imported_at     BIGINT NOT NULL
)
