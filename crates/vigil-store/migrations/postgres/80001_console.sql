-- Server / console (block 8): people who sign in to the web console, their
-- sessions and the index the alert queue sorts by severity with.
-- Passwords are argon2id PHC hashes; session ids are stored as the hex
-- SHA-256 of the cookie value, never the value itself.
CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL REFERENCES tenants (id),
    username        TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    password_hash   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    created_by      TEXT NOT NULL,
    password_set_at BIGINT NOT NULL,
    disabled_at     BIGINT,
    failed_logins   BIGINT NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    last_login_at   BIGINT
);
CREATE UNIQUE INDEX users_username ON users (username);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    tenant      TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    csrf        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    source      TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE INDEX alerts_tenant_severity ON alerts (tenant, severity, created_at, id);
