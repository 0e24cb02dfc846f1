-- mcpgate as the OAuth 2.1 authorization server for its proxy URLs (issue 15, item 1).
-- Each connected client is a grant (scoped to one server); these tables hold what the
-- flow needs besides it. Codes and refresh tokens are stored as their SHA-256 only.

-- Dynamic Client Registration (RFC 7591) is on unless a tenant turns it off: clients
-- registered that way are then refused at its consent step.
ALTER TABLE tenants ADD COLUMN oauth_dynamic_registration boolean NOT NULL DEFAULT true;

-- Clients registered dynamically. Not tenant-owned: registration happens before anyone
-- signs in, and the client only reaches a tenant through a person's consent.
CREATE TABLE oauth_clients (
    client_id      text        PRIMARY KEY,
    client_name    text        NOT NULL,
    redirect_uris  text[]      NOT NULL,
    client_uri     text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT oauth_clients_redirect_uris_present CHECK (cardinality(redirect_uris) > 0)
);
-- For sweeping registrations that never connected.
CREATE INDEX oauth_clients_created_idx ON oauth_clients (created_at);

-- Authorization codes: single use (used_at), short-lived (expires_at), bound to the
-- client, the exact redirect URI, the PKCE S256 challenge and the resource (server).
CREATE TABLE oauth_codes (
    code_hash         bytea       PRIMARY KEY,
    tenant_id         uuid        NOT NULL,
    server_id         uuid        NOT NULL,
    client_id         text        NOT NULL,
    client_name       text        NOT NULL,
    redirect_uri      text        NOT NULL,
    code_challenge    text        NOT NULL,
    resource          text        NOT NULL,
    -- What the person consented to: the grant's own policy (NULL: the server's only)
    -- and when the grant ends (NULL: never).
    grant_policy      text,
    grant_expires_at  timestamptz,
    consented_by      text        NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    used_at           timestamptz,
    -- The grant the code was exchanged for: a second use of the code revokes it.
    grant_id          uuid,
    CONSTRAINT oauth_codes_server_fk FOREIGN KEY (tenant_id, server_id)
        REFERENCES servers (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT oauth_codes_hash_length CHECK (length(code_hash) = 32)
);
CREATE INDEX oauth_codes_tenant_idx ON oauth_codes (tenant_id, server_id);
CREATE INDEX oauth_codes_expiry_idx ON oauth_codes (expires_at);

-- Which grants are OAuth connections, and of which client.
CREATE TABLE oauth_connections (
    tenant_id    uuid        NOT NULL,
    grant_id     uuid        NOT NULL,
    client_id    text        NOT NULL,
    client_name  text        NOT NULL,
    resource     text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT oauth_connections_pkey PRIMARY KEY (tenant_id, grant_id),
    CONSTRAINT oauth_connections_grant_fk FOREIGN KEY (tenant_id, grant_id)
        REFERENCES grants (tenant_id, id) ON DELETE CASCADE
);

-- Refresh tokens, rotated on every use. All of one grant are one family: presenting a
-- rotated (used) one again revokes the grant, so every token of the family ends.
CREATE TABLE oauth_refresh_tokens (
    token_hash  bytea       PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    grant_id    uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    CONSTRAINT oauth_refresh_tokens_connection_fk FOREIGN KEY (tenant_id, grant_id)
        REFERENCES oauth_connections (tenant_id, grant_id) ON DELETE CASCADE,
    CONSTRAINT oauth_refresh_tokens_hash_length CHECK (length(token_hash) = 32)
);
CREATE INDEX oauth_refresh_tokens_grant_idx ON oauth_refresh_tokens (tenant_id, grant_id);
