-- Upstream OAuth (issue 15, item 2): mcpgate as the OAuth client of a tenant's
-- OAuth-protected MCP server. One connection per server, owned by the tenant.

CREATE TABLE upstream_oauth_connections (
    tenant_id                 uuid        NOT NULL,
    server_id                 uuid        NOT NULL,
    -- needs_connect: nobody connected it yet; connected: tokens are held;
    -- needs_reconnect: the authorization server refused a refresh (or the grant is gone).
    status                    text        NOT NULL,
    -- Why it needs (re)connecting, for the tenant; never a token.
    status_reason             text,
    -- RFC 8707: the canonical URI of the MCP server tokens are requested for.
    resource                  text        NOT NULL,
    resource_metadata_url     text,
    scope                     text,
    issuer                    text,
    authorization_endpoint    text,
    token_endpoint            text,
    iss_parameter_supported   boolean     NOT NULL DEFAULT false,
    -- How mcpgate identified itself: metadata_document, dynamic or entered.
    client_registration       text,
    client_id                 text,
    -- Sealed with the credentials key, bound to the row (CredentialsKey).
    client_secret_sealed      bytea,
    -- {"access_token": ..., "refresh_token": ...}, sealed likewise.
    tokens_sealed             bytea,
    access_issued_at          timestamptz,
    access_expires_at         timestamptz,
    -- Bumped whenever new tokens are stored: a replica that waited for the refresh lock
    -- sees another replica already refreshed, and does not refresh again.
    generation                bigint      NOT NULL DEFAULT 0,
    connected_at              timestamptz,
    connected_by              text,
    refreshed_at              timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT upstream_oauth_connections_pkey PRIMARY KEY (tenant_id, server_id),
    CONSTRAINT upstream_oauth_connections_server_fk FOREIGN KEY (tenant_id, server_id)
        REFERENCES servers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT upstream_oauth_connections_status_known
        CHECK (status IN ('needs_connect', 'connected', 'needs_reconnect')),
    CONSTRAINT upstream_oauth_connections_registration_known
        CHECK (client_registration IS NULL
               OR client_registration IN ('metadata_document', 'dynamic', 'entered')),
    CONSTRAINT upstream_oauth_connections_connected_has_tokens
        CHECK (status <> 'connected' OR tokens_sealed IS NOT NULL)
);

-- An authorization request in flight: found by its state (single use, ten minutes).
-- The state names the tenant, so the lookup leads with tenant_id like every index.
CREATE TABLE upstream_oauth_flows (
    tenant_id             uuid        NOT NULL,
    -- SHA-256 of the state value; the value itself is only in the browser's URL.
    state_hash            bytea       NOT NULL,
    server_id             uuid        NOT NULL,
    -- The PKCE verifier, sealed and bound to the row.
    code_verifier_sealed  bytea       NOT NULL,
    -- RFC 9207: recorded before the redirect, compared with the response's iss.
    issuer                text        NOT NULL,
    redirect_uri          text        NOT NULL,
    started_by            text        NOT NULL,
    expires_at            timestamptz NOT NULL,
    CONSTRAINT upstream_oauth_flows_pkey PRIMARY KEY (tenant_id, state_hash),
    CONSTRAINT upstream_oauth_flows_server_fk FOREIGN KEY (tenant_id, server_id)
        REFERENCES servers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT upstream_oauth_flows_state_hash_length CHECK (length(state_hash) = 32)
);
CREATE INDEX upstream_oauth_flows_tenant_server_idx ON upstream_oauth_flows (tenant_id, server_id);
