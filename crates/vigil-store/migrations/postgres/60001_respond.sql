-- Response (block 6): alert triage, incidents with their timeline, tasks and
-- alert links, playbooks (every uploaded version kept) and durable runs with
-- their logs. Effects inside Vigil carry the playbook step's idempotency key
-- (`origin_key`), so a step replayed after a crash finds its first result.
CREATE TABLE alert_triage (
    tenant       TEXT NOT NULL,
    alert_id     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('new', 'acknowledged', 'escalated', 'false_positive', 'closed')),
    assignee     TEXT,
    incident_id  TEXT,
    reason       TEXT,
    updated_at   BIGINT NOT NULL,
    updated_by   TEXT NOT NULL,
    acked_at     BIGINT,
    PRIMARY KEY (tenant, alert_id)
);
CREATE INDEX alert_triage_state ON alert_triage (tenant, state);

CREATE TABLE incidents (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    number       BIGINT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    severity     BIGINT NOT NULL,
    status       TEXT NOT NULL,
    assignee     TEXT,
    category     TEXT,
    tags         JSONB NOT NULL,
    flags        JSONB NOT NULL,
    clocks_done  JSONB NOT NULL,
    aware_at     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    contained_at BIGINT,
    closed_at    BIGINT,
    merged_into  TEXT,
    created_by   TEXT NOT NULL,
    origin_key   TEXT,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, number)
);
CREATE UNIQUE INDEX incidents_origin ON incidents (tenant, origin_key) WHERE origin_key IS NOT NULL;
CREATE INDEX incidents_status ON incidents (tenant, status, number);

CREATE TABLE incident_alerts (
    tenant       TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    alert_id     TEXT NOT NULL,
    added_at     BIGINT NOT NULL,
    PRIMARY KEY (tenant, incident_id, alert_id)
);
CREATE INDEX incident_alerts_alert ON incident_alerts (tenant, alert_id);

CREATE TABLE incident_timeline (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant       TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    at           BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    text         TEXT NOT NULL,
    details      JSONB NOT NULL,
    origin_key   TEXT
);
CREATE INDEX incident_timeline_incident ON incident_timeline (tenant, incident_id, id);
CREATE UNIQUE INDEX incident_timeline_origin ON incident_timeline (tenant, origin_key) WHERE origin_key IS NOT NULL;

CREATE TABLE incident_tasks (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    assignee     TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    origin_key   TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX incident_tasks_incident ON incident_tasks (tenant, incident_id, created_at);
CREATE UNIQUE INDEX incident_tasks_origin ON incident_tasks (tenant, origin_key) WHERE origin_key IS NOT NULL;

CREATE TABLE playbooks (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    version      BIGINT NOT NULL,
    source       TEXT NOT NULL,
    enabled      BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (tenant, id, version)
);

CREATE TABLE playbook_runs (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    playbook_id  TEXT NOT NULL,
    version      BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    trigger_id   TEXT NOT NULL,
    status       TEXT NOT NULL,
    state        JSONB NOT NULL,
    wake_at      BIGINT,
    rev          BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, playbook_id, trigger_kind, trigger_id)
);
CREATE INDEX playbook_runs_active ON playbook_runs (status, wake_at);
CREATE INDEX playbook_runs_created ON playbook_runs (tenant, created_at);

CREATE TABLE run_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    at           BIGINT NOT NULL,
    step         TEXT NOT NULL,
    event        TEXT NOT NULL,
    message      TEXT NOT NULL
);
CREATE INDEX run_log_run ON run_log (tenant, run_id, id);

CREATE TABLE incident_observables (
    tenant       TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    value        TEXT NOT NULL,
    intel        JSONB NOT NULL,
    added_at     BIGINT NOT NULL,
    added_by     TEXT NOT NULL,
    PRIMARY KEY (tenant, incident_id, kind, value)
);

-- Evidence: metadata per attachment, content stored once per SHA-256.
CREATE TABLE evidence (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    name         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size         BIGINT NOT NULL,
    added_at     BIGINT NOT NULL,
    added_by     TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX evidence_incident ON evidence (tenant, incident_id, added_at);
CREATE TABLE evidence_blobs (
    sha256       TEXT PRIMARY KEY,
    size         BIGINT NOT NULL,
    data         BYTEA NOT NULL
);

-- Regulatory clocks already notified as overdue (one notice each).
CREATE TABLE clock_notices (
    tenant       TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    clock_id     TEXT NOT NULL,
    notified_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, incident_id, clock_id)
);
