-- Dashboard sessions: a browser's login. The cookie holds a random id; only its
-- SHA-256 is stored, so a read of this table does not yield live sessions.
CREATE TABLE dashboard_sessions (
    session_hash  bytea       PRIMARY KEY,
    tenant_id     uuid        NOT NULL,
    user_id       uuid        NOT NULL,
    -- Per-session synchroniser token, put in every form and checked on every POST.
    csrf_token    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    -- (tenant_id, id) keeps a session from ever pointing at another tenant's user.
    CONSTRAINT dashboard_sessions_user_fk FOREIGN KEY (tenant_id, user_id)
        REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT dashboard_sessions_hash_length CHECK (length(session_hash) = 32)
);
CREATE INDEX dashboard_sessions_tenant_idx ON dashboard_sessions (tenant_id, user_id);
-- For sweeping expired sessions.
CREATE INDEX dashboard_sessions_expiry_idx ON dashboard_sessions (expires_at);
