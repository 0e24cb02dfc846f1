-- Password reset links (issue 16): a person who forgot their password, or an account
-- made by SSO that has none, gets a single-use link valid for 30 minutes. Only the
-- SHA-256 of its token is stored; using it sets used_at once (a second use finds it
-- taken), sets the password and ends every session of the person.
CREATE TABLE password_resets (
    id            uuid        PRIMARY KEY,
    user_id       uuid        NOT NULL,
    token_hash    bytea       NOT NULL,
    -- 'self' (the forgot-password form) or the admin who made it ('user:<email>',
    -- 'api-key:<prefix>').
    requested_by  text        NOT NULL,
    -- The tenant whose admin made the link; NULL when the person asked for it.
    tenant_id     uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    CONSTRAINT password_resets_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT password_resets_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT password_resets_token_hash_key UNIQUE (token_hash),
    CONSTRAINT password_resets_token_hash_length CHECK (length(token_hash) = 32)
);
-- A person's links: a new one, or a reset, retires the others.
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
