-- The control plane: API keys, upstream servers and their tools, policies,
-- grants (agent credentials), held calls awaiting approval, and the audit log.
-- Every tenant-owned table carries tenant_id and leads its indexes with it; ids
-- are UUIDv7 (time-ordered), so "newest first" walks the primary key's order.

-- Composite keys let child rows reference (tenant_id, id), so a row can never
-- point at another tenant's parent.
ALTER TABLE users ADD CONSTRAINT users_tenant_id_key UNIQUE (tenant_id, id);

CREATE TABLE api_keys (
    id            uuid        PRIMARY KEY,
    tenant_id     uuid        NOT NULL,
    name          text        NOT NULL,
    -- The public part of the key, shown in lists; the key itself is never stored.
    prefix        text        NOT NULL,
    -- SHA-256 of the whole key: a 190-bit random secret needs no slow hash.
    key_hash      bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    CONSTRAINT api_keys_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix),
    CONSTRAINT api_keys_name_not_blank CHECK (length(btrim(name)) > 0)
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id);

CREATE TABLE servers (
    id                   uuid        PRIMARY KEY,
    tenant_id            uuid        NOT NULL,
    name                 text        NOT NULL,
    url                  text        NOT NULL,
    -- streamable_http or sse (legacy HTTP+SSE, 2024-11-05), as discovery found it.
    transport            text        NOT NULL,
    -- Upstream credentials: AES-256-GCM sealed JSON object, bound to (tenant, server).
    -- Only the header names are ever shown again.
    headers_sealed       bytea,
    header_names         text[]      NOT NULL DEFAULT '{}',
    server_info          jsonb,
    protocol_version     text,
    instructions         text,
    -- A tool whose definition changed since approval is blocked until approved again.
    block_changed_tools  boolean     NOT NULL DEFAULT true,
    -- Bumped on every change the proxies must see; makes their reloads idempotent.
    revision             bigint      NOT NULL DEFAULT 1,
    synced_at            timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT servers_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT servers_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT servers_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT servers_transport_known CHECK (transport IN ('streamable_http', 'sse')),
    CONSTRAINT servers_name_not_blank CHECK (length(btrim(name)) > 0)
);

CREATE TABLE tools (
    tenant_id             uuid        NOT NULL,
    server_id             uuid        NOT NULL,
    name                  text        NOT NULL,
    -- The definition as the upstream sent it.
    definition            jsonb       NOT NULL,
    category              text        NOT NULL,
    risk                  text        NOT NULL,
    evidence              jsonb       NOT NULL DEFAULT '[]',
    fingerprint           text        NOT NULL,
    -- The definition a person accepted; differs from fingerprint after a silent change.
    approved_fingerprint  text,
    approved_at           timestamptz,
    approved_by           text,
    first_seen            timestamptz NOT NULL DEFAULT now(),
    changed_at            timestamptz,
    removed_at            timestamptz,
    CONSTRAINT tools_pkey PRIMARY KEY (tenant_id, server_id, name),
    CONSTRAINT tools_server_fk FOREIGN KEY (tenant_id, server_id)
        REFERENCES servers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT tools_category_known
        CHECK (category IN ('read', 'write', 'destructive', 'execute', 'credential', 'network')),
    CONSTRAINT tools_risk_known CHECK (risk IN ('low', 'medium', 'high', 'critical'))
);

-- Versions are append-only; the active policy of a server is its highest version.
-- A rollback stores the old document again as a new version, so history never changes.
CREATE TABLE policies (
    tenant_id   uuid        NOT NULL,
    server_id   uuid        NOT NULL,
    version     integer     NOT NULL,
    -- The document exactly as written (JSON text), so pointers and diffs match it.
    document    text        NOT NULL,
    author      text        NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT policies_pkey PRIMARY KEY (tenant_id, server_id, version),
    CONSTRAINT policies_server_fk FOREIGN KEY (tenant_id, server_id)
        REFERENCES servers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT policies_version_positive CHECK (version > 0)
);

CREATE TABLE grants (
    id             uuid        PRIMARY KEY,
    tenant_id      uuid        NOT NULL,
    name           text        NOT NULL,
    -- NULL: every server of the tenant, present and future.
    server_ids     uuid[],
    -- The grant's own policy (JSON text); a call must pass it and the server's.
    policy         text,
    -- Rotation bumps it; tokens carry the version they were issued with.
    token_version  integer     NOT NULL DEFAULT 1,
    expires_at     timestamptz,
    revoked_at     timestamptz,
    last_used_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT grants_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT grants_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT grants_name_not_blank CHECK (length(btrim(name)) > 0)
);
CREATE INDEX grants_tenant_idx ON grants (tenant_id, id);

CREATE TABLE approvals (
    id           uuid        PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    server_id    uuid        NOT NULL,
    grant_id     uuid,
    tool         text        NOT NULL,
    arguments    jsonb       NOT NULL DEFAULT '{}',
    rule         text,
    reason       text,
    status       text        NOT NULL DEFAULT 'pending',
    decided_by   text,
    decision_reason text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    decided_at   timestamptz,
    CONSTRAINT approvals_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT approvals_status_known
        CHECK (status IN ('pending', 'approved', 'denied', 'expired'))
);
CREATE INDEX approvals_tenant_status_idx ON approvals (tenant_id, status, id DESC);

-- Audit rows outlive the servers and grants they name: no foreign keys but the tenant.
CREATE TABLE audit_events (
    id               uuid        NOT NULL,
    tenant_id        uuid        NOT NULL,
    at               timestamptz NOT NULL,
    server_id        uuid,
    grant_id         uuid,
    request_id       text,
    method           text        NOT NULL,
    tool             text,
    -- allow, deny, limited, shadow, approval_required, approved, approval_denied,
    -- approval_expired, error
    decision         text        NOT NULL,
    rule             text,
    reason           text,
    policy_version   integer,
    upstream_status  integer,
    latency_us       bigint,
    argument_keys    text[]      NOT NULL DEFAULT '{}',
    -- Values only when the tenant's policy opts in; redacted and size-capped.
    arguments        jsonb,
    actor            text,
    CONSTRAINT audit_events_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT audit_events_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX audit_events_tenant_at_idx ON audit_events (tenant_id, at DESC, id DESC);
