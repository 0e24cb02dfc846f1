-- A tenant is a team (issue 16): people belong to tenants through memberships, each
-- with a role; API keys carry a role too; invitations bring new members in.
--
-- users.tenant_id stays as the tenant a person signed up into (or was first invited
-- to); what a person may reach is their memberships, never that column. users.role
-- is no longer read.

CREATE TABLE memberships (
    tenant_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    role        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (tenant_id, user_id),
    CONSTRAINT memberships_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT memberships_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT memberships_role_known
        CHECK (role IN ('admin', 'policy_manager', 'approver', 'viewer'))
);
-- A person's tenants, for the tenant switcher and logging in.
CREATE INDEX memberships_user_idx ON memberships (user_id, tenant_id);

-- Every existing user keeps their tenant: owners and admins as admins, members as viewers.
INSERT INTO memberships (tenant_id, user_id, role, created_at)
SELECT tenant_id, id, CASE role WHEN 'member' THEN 'viewer' ELSE 'admin' END, created_at
FROM users;

-- A session is a membership's: removing the member (or switching away and back) is
-- seen on the next request, and removal ends the member's sessions in that tenant.
ALTER TABLE dashboard_sessions DROP CONSTRAINT dashboard_sessions_user_fk;
ALTER TABLE dashboard_sessions ADD CONSTRAINT dashboard_sessions_membership_fk
    FOREIGN KEY (tenant_id, user_id) REFERENCES memberships (tenant_id, user_id) ON DELETE CASCADE;
-- A person's sessions across tenants (session list, sign out everywhere).
CREATE INDEX dashboard_sessions_user_idx ON dashboard_sessions (user_id);

-- Existing keys keep the powers they had.
ALTER TABLE api_keys ADD COLUMN role text NOT NULL DEFAULT 'admin';
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_known
    CHECK (role IN ('admin', 'policy_manager', 'approver', 'viewer'));

-- An invitation is a single-use link: only the SHA-256 of its token is stored, it
-- expires, and accepting it sets accepted_at once (a second use finds it taken).
CREATE TABLE invitations (
    id           uuid        PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    email        text        NOT NULL,
    role         text        NOT NULL,
    token_hash   bytea       NOT NULL,
    invited_by   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    accepted_by  uuid,
    revoked_at   timestamptz,
    CONSTRAINT invitations_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_role_known
        CHECK (role IN ('admin', 'policy_manager', 'approver', 'viewer')),
    CONSTRAINT invitations_email_shape CHECK (position('@' in email) > 1)
);
CREATE INDEX invitations_tenant_idx ON invitations (tenant_id, id);
