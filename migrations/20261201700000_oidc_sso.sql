-- Single sign-on with OpenID Connect (issue 16 item 4): one identity provider per
-- tenant, and the authorization requests in flight.

CREATE TABLE tenant_sso (
    tenant_id             uuid        PRIMARY KEY,
    issuer                text        NOT NULL,
    client_id             text        NOT NULL,
    -- Sealed under the credentials key, bound to the tenant (never returned).
    client_secret_sealed  bytea       NOT NULL,
    -- The email domain whose people sign in here ("Sign in with SSO" by email).
    email_domain          text        NOT NULL,
    -- Password login refused for the tenant's members.
    sso_only              boolean     NOT NULL DEFAULT false,
    -- Auto-join: a verified address of email_domain becomes a member with this role;
    -- NULL is off (only existing members sign in).
    auto_join_role        text,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenant_sso_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT tenant_sso_role_known
        CHECK (auto_join_role IS NULL OR auto_join_role IN ('admin', 'policy_manager', 'approver', 'viewer')),
    CONSTRAINT tenant_sso_domain_shape
        CHECK (email_domain = lower(email_domain) AND position('@' in email_domain) = 0
               AND length(email_domain) > 0)
);

-- A domain signs in to one tenant.
CREATE UNIQUE INDEX tenant_sso_domain_key ON tenant_sso (email_domain);

-- An authorization request in flight: found by the SHA-256 of its state (the browser
-- holds the state in a short-lived cookie too) and deleted when the callback uses it.
CREATE TABLE sso_logins (
    state_hash     bytea       PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    nonce          text        NOT NULL,
    code_verifier  text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    CONSTRAINT sso_logins_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX sso_logins_expiry_idx ON sso_logins (expires_at);
