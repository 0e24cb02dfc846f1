-- The admin audit trail (issue 16): every change made through the control plane
-- (REST or dashboard), who made it (a member or an API key, with the role they held),
-- when, from which client address, to what (the route's path parameters) and what
-- changed (a summary the handler adds, e.g. a policy's version diff).
--
-- Append-only: a trigger refuses UPDATE and any DELETE but the cascade of deleting
-- the tenant itself. No foreign keys but the tenant: rows outlive what they name.
CREATE TABLE admin_audit_events (
    id              uuid        NOT NULL,
    tenant_id       uuid        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_kind      text        NOT NULL,
    -- The user's or the API key's id.
    actor_id        uuid        NOT NULL,
    -- user:<email> or api-key:<prefix>, as it was at the time.
    actor           text        NOT NULL,
    actor_role      text        NOT NULL,
    client_address  text,
    -- What area changed: servers, policies, grants, approvals, api_keys, members.
    resource        text        NOT NULL,
    method          text        NOT NULL,
    -- The route as registered, e.g. /api/v1/servers/{id}/policy.
    route           text        NOT NULL,
    -- The route's path parameters, e.g. {"id": "<server id>"}.
    target          jsonb       NOT NULL DEFAULT '{}',
    changes         jsonb,
    status          smallint    NOT NULL,
    CONSTRAINT admin_audit_events_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT admin_audit_events_tenant_fk FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT admin_audit_events_actor_kind_known CHECK (actor_kind IN ('member', 'api_key')),
    CONSTRAINT admin_audit_events_actor_role_known
        CHECK (actor_role IN ('admin', 'policy_manager', 'approver', 'viewer'))
);
-- Newest first; ids are UUIDv7, so (at, id) is also the cursor's order.
CREATE INDEX admin_audit_events_tenant_at_idx ON admin_audit_events (tenant_id, at DESC, id DESC);

CREATE FUNCTION admin_audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Depth 1 is a statement on this table; the tenant's ON DELETE CASCADE runs
    -- through the foreign key's own trigger, one level deeper.
    IF TG_OP = 'UPDATE' OR pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'admin_audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN OLD;
END;
$$;

CREATE TRIGGER admin_audit_events_append_only
    BEFORE UPDATE OR DELETE ON admin_audit_events
    FOR EACH ROW EXECUTE FUNCTION admin_audit_events_append_only();
