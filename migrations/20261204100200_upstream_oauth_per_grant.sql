-- Per-grant upstream OAuth connections (issue 15, item 2, last clause): a server's OAuth
-- setting says whose upstream user a call acts as. 'tenant' (the default, and what every
-- existing row is): one connection, made by an administrator, for every grant. 'grant':
-- each grant connects its own upstream user, and a call through a grant uses that grant's
-- tokens only.
ALTER TABLE upstream_oauth_connections
    ADD COLUMN connection_scope text NOT NULL DEFAULT 'tenant',
    ADD CONSTRAINT upstream_oauth_connections_scope_known
        CHECK (connection_scope IN ('tenant', 'grant'));

-- One grant's connection to a per-grant server. What discovery and registration found
-- (issuer, endpoints, client) stays on the server's row; this row holds what is the
-- grant's own: its status and its tokens.
CREATE TABLE upstream_oauth_grant_connections (
    tenant_id         uuid        NOT NULL,
    server_id         uuid        NOT NULL,
    grant_id          uuid        NOT NULL,
    -- connected: tokens are held; needs_reconnect: the authorization server refused a
    -- refresh. A grant that never connected has no row.
    status            text        NOT NULL,
    status_reason     text,
    -- Sealed with the credentials key, bound to (tenant, server, grant): a grant's
    -- tokens do not open as another grant's or as the tenant's.
    tokens_sealed     bytea,
    access_issued_at  timestamptz,
    access_expires_at timestamptz,
    -- As on the server's row: bumped with new tokens, so one replica refreshes.
    generation        bigint      NOT NULL DEFAULT 0,
    connected_at      timestamptz NOT NULL DEFAULT now(),
    connected_by      text        NOT NULL,
    refreshed_at      timestamptz,
    -- The refresh backoff, as on the server's row (20261204100100).
    refresh_failures        integer NOT NULL DEFAULT 0,
    refresh_failure_reason  text,
    refresh_failed_at       timestamptz,
    next_refresh_attempt_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT upstream_oauth_grant_connections_pkey PRIMARY KEY (tenant_id, server_id, grant_id),
    -- The server's OAuth setting going away (or the server) takes its grants' tokens.
    CONSTRAINT upstream_oauth_grant_connections_server_fk FOREIGN KEY (tenant_id, server_id)
        REFERENCES upstream_oauth_connections (tenant_id, server_id) ON DELETE CASCADE,
    CONSTRAINT upstream_oauth_grant_connections_grant_fk FOREIGN KEY (tenant_id, grant_id)
        REFERENCES grants (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT upstream_oauth_grant_connections_status_known
        CHECK (status IN ('connected', 'needs_reconnect')),
    CONSTRAINT upstream_oauth_grant_connections_connected_has_tokens
        CHECK (status <> 'connected' OR tokens_sealed IS NOT NULL),
    CONSTRAINT upstream_oauth_grant_connections_refresh_failures_counted
        CHECK (refresh_failures >= 0)
);
-- The proxy loads a grant's connections with the grant.
CREATE INDEX upstream_oauth_grant_connections_grant_idx
    ON upstream_oauth_grant_connections (tenant_id, grant_id);

-- An authorization request for one grant's connection names the grant (NULL: the tenant's).
ALTER TABLE upstream_oauth_flows
    ADD COLUMN grant_id uuid,
    ADD CONSTRAINT upstream_oauth_flows_grant_fk FOREIGN KEY (tenant_id, grant_id)
        REFERENCES grants (tenant_id, id) ON DELETE CASCADE;
