-- vigil-store core schema, SQLite flavour (migration 10001).
-- Timestamps are INTEGER epoch microseconds; ids are TEXT (UUID strings).

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
INSERT INTO tenants (id, name, created_at)
VALUES ('00000000-0000-0000-0000-000000000001', 'default', 0);

-- The durable event log; seq is the log position and is never reused.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    tenant       TEXT NOT NULL REFERENCES tenants (id),
    received_at  INTEGER NOT NULL,
    event_time   INTEGER,
    source       TEXT NOT NULL,
    host         TEXT,
    format       TEXT NOT NULL,
    raw          BLOB NOT NULL
);
CREATE INDEX events_received_at ON events (received_at);
CREATE INDEX events_tenant_seq ON events (tenant, seq);

-- Detection progress per consumer and detector snapshots.
CREATE TABLE checkpoints (
    consumer    TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE detector_state (
    consumer    TEXT NOT NULL,
    detector    TEXT NOT NULL,
    state       BLOB NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (consumer, detector)
);

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    detector    TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    title       TEXT NOT NULL,
    severity    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    event_time  INTEGER NOT NULL,
    event_id    TEXT,
    entities    TEXT NOT NULL,
    tags        TEXT NOT NULL,
    details     TEXT NOT NULL,
    event       TEXT NOT NULL
);
CREATE INDEX alerts_tenant_created ON alerts (tenant, created_at, id);
CREATE INDEX alerts_tenant_rule ON alerts (tenant, rule_id, created_at);

-- Change feed (outbox): every created or updated object, in order.
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    at           INTEGER NOT NULL,
    tenant       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    op           TEXT NOT NULL,
    payload      TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    tenant       TEXT NOT NULL REFERENCES tenants (id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant, created_at);

-- Hash-chained audit log; seq is contiguous and assigned by the store.
CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    tenant          TEXT NOT NULL,
    principal       TEXT NOT NULL,
    principal_kind  TEXT NOT NULL,
    action          TEXT NOT NULL,
    target          TEXT NOT NULL,
    details         TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_tenant_seq ON audit_log (tenant, seq);
-- The chain head: serialises appends and detects a truncated tail.
CREATE TABLE audit_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Persisted scheduler with leases.
CREATE TABLE jobs (
    name           TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    tenant         TEXT NOT NULL REFERENCES tenants (id),
    interval_secs  INTEGER,
    next_run       INTEGER NOT NULL,
    payload        TEXT NOT NULL,
    enabled        BOOLEAN NOT NULL DEFAULT TRUE,
    lease_owner    TEXT,
    lease_until    INTEGER,
    lease_token    TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    last_run       INTEGER,
    last_error     TEXT,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX jobs_next_run ON jobs (next_run);

-- Encrypted secrets (AES-256-GCM; the key never touches the database).
CREATE TABLE secrets (
    tenant      TEXT NOT NULL REFERENCES tenants (id),
    name        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    nonce       BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);
