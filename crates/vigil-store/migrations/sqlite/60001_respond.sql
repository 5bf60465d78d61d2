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
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT NOT NULL,
    acked_at     INTEGER,
    PRIMARY KEY (tenant, alert_id)
);
CREATE INDEX alert_triage_state ON alert_triage (tenant, state);

CREATE TABLE incidents (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    number       INTEGER NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    severity     INTEGER NOT NULL,
    status       TEXT NOT NULL,
    assignee     TEXT,
    category     TEXT,
    tags         TEXT NOT NULL,
    flags        TEXT NOT NULL,
    clocks_done  TEXT NOT NULL,
    aware_at     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    contained_at INTEGER,
    closed_at    INTEGER,
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
    added_at     INTEGER NOT NULL,
    PRIMARY KEY (tenant, incident_id, alert_id)
);
CREATE INDEX incident_alerts_alert ON incident_alerts (tenant, alert_id);

CREATE TABLE incident_timeline (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant       TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    text         TEXT NOT NULL,
    details      TEXT NOT NULL,
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
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    origin_key   TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX incident_tasks_incident ON incident_tasks (tenant, incident_id, created_at);
CREATE UNIQUE INDEX incident_tasks_origin ON incident_tasks (tenant, origin_key) WHERE origin_key IS NOT NULL;

CREATE TABLE playbooks (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    version      INTEGER NOT NULL,
    source       TEXT NOT NULL,
    enabled      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (tenant, id, version)
);

CREATE TABLE playbook_runs (
    tenant       TEXT NOT NULL,
    id           TEXT NOT NULL,
    playbook_id  TEXT NOT NULL,
    version      INTEGER NOT NULL,
    trigger_kind TEXT NOT NULL,
    trigger_id   TEXT NOT NULL,
    status       TEXT NOT NULL,
    state        TEXT NOT NULL,
    wake_at      INTEGER,
    rev          INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, playbook_id, trigger_kind, trigger_id)
);
CREATE INDEX playbook_runs_active ON playbook_runs (status, wake_at);
CREATE INDEX playbook_runs_created ON playbook_runs (tenant, created_at);

CREATE TABLE run_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    at           INTEGER NOT NULL,
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
    intel        TEXT NOT NULL,
    added_at     INTEGER NOT NULL,
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
    size         INTEGER NOT NULL,
    added_at     INTEGER NOT NULL,
    added_by     TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX evidence_incident ON evidence (tenant, incident_id, added_at);
CREATE TABLE evidence_blobs (
    sha256       TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL
);

-- Regulatory clocks already notified as overdue (one notice each).
CREATE TABLE clock_notices (
    tenant       TEXT NOT NULL,
    incident_id  TEXT NOT NULL,
    clock_id     TEXT NOT NULL,
    notified_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, incident_id, clock_id)
);
