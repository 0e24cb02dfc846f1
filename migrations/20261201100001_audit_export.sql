-- A tenant's SIEM export (issue 17, item 4): its audit events, in position order,
-- POSTed in signed batches to a webhook. At least once: the position of the last
-- batch the receiver acknowledged is stored, so a restart resumes after it.
CREATE TABLE audit_exports (
    tenant_id           uuid        NOT NULL,
    url                 text        NOT NULL,
    -- The HMAC-SHA256 key, sealed with the credentials key and bound to the tenant.
    secret_sealed       bytea       NOT NULL,
    -- Events up to this position are delivered (or dead-lettered).
    delivered_position  bigint      NOT NULL,
    delivered_events    bigint      NOT NULL DEFAULT 0,
    -- Events given up on after every retry of their batch failed.
    dead_letter_events  bigint      NOT NULL DEFAULT 0,
    -- Failed attempts of the batch now due; 0 after a delivery.
    failed_attempts     integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_error          text,
    last_delivered_at   timestamptz,
    -- Which API replica is delivering now, and until when its claim holds.
    lease_owner         uuid,
    leased_until        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_exports_pkey PRIMARY KEY (tenant_id),
    CONSTRAINT audit_exports_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX audit_exports_due_idx ON audit_exports (next_attempt_at);

-- Batches given up on: which positions, and why. The events themselves stay in
-- audit_events (until retention), so a batch can be looked up and replayed.
CREATE TABLE audit_export_dead_letter (
    tenant_id       uuid        NOT NULL,
    first_position  bigint      NOT NULL,
    last_position   bigint      NOT NULL,
    events          integer     NOT NULL,
    error           text        NOT NULL,
    attempts        integer     NOT NULL,
    given_up_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_export_dead_letter_pkey PRIMARY KEY (tenant_id, first_position),
    CONSTRAINT audit_export_dead_letter_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
