-- Audit events that Postgres refused even after the writer made them storable (issue
-- 11): set aside here, counted and logged, instead of being retried forever, which
-- would stop the audit log of every tenant, or being lost.
--
-- The event is JSON text rather than jsonb: serde_json escapes every control character,
-- NUL included, so the text always stores, whatever the event held.
-- No foreign key to tenants: this table is the last resort and must accept any row,
-- including one refused because its tenant is gone.
CREATE TABLE audit_dead_letter (
    id            uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    -- When the decision was made (the event's own time).
    at            timestamptz NOT NULL,
    event         text        NOT NULL,
    -- What Postgres said when it refused the event.
    error         text        NOT NULL,
    set_aside_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_dead_letter_pkey PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_dead_letter_tenant_set_aside_idx
    ON audit_dead_letter (tenant_id, set_aside_at DESC, id DESC);
