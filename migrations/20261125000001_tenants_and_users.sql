-- Tenants and their users: the first schema of the control plane.
-- Every tenant-owned table carries tenant_id and leads its indexes with it.

CREATE TABLE tenants (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_name_not_blank CHECK (length(btrim(name)) > 0)
);

CREATE TABLE users (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    email          text        NOT NULL,
    -- argon2id PHC string; the plain password is never stored.
    password_hash  text        NOT NULL,
    role           text        NOT NULL DEFAULT 'owner',
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT users_role_known CHECK (role IN ('owner', 'admin', 'member')),
    CONSTRAINT users_email_shape CHECK (position('@' in email) > 1)
);

-- One account per address, whatever its case: login looks the address up lowercased.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_tenant_idx ON users (tenant_id, id);
