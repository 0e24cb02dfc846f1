-- The classifier's confidence and the tenant's corrections (issue 14).
--
-- tools.category and tools.risk stay the classifier's verdict, rewritten by every
-- sync. A tenant's override lives beside it, with the fingerprint of the definition
-- it was made against: the store reads coalesce(override, verdict) wherever a
-- classification is used (the proxy included), and an override whose fingerprint
-- differs from the tool's current one is stale (kept, and flagged for review).

-- NULL for tools classified before confidence existed, until their next sync.
ALTER TABLE tools ADD COLUMN confidence text;
ALTER TABLE tools ADD COLUMN confidence_reasons jsonb NOT NULL DEFAULT '[]';
ALTER TABLE tools ADD CONSTRAINT tools_confidence_known
    CHECK (confidence IS NULL OR confidence IN ('low', 'medium', 'high'));

ALTER TABLE tools ADD COLUMN override_category text;
ALTER TABLE tools ADD COLUMN override_risk text;
ALTER TABLE tools ADD COLUMN override_reason text;
ALTER TABLE tools ADD COLUMN override_by text;
ALTER TABLE tools ADD COLUMN override_at timestamptz;
ALTER TABLE tools ADD COLUMN override_fingerprint text;
ALTER TABLE tools ADD CONSTRAINT tools_override_category_known
    CHECK (override_category IS NULL
        OR override_category IN ('read', 'write', 'destructive', 'execute', 'credential', 'network'));
ALTER TABLE tools ADD CONSTRAINT tools_override_risk_known
    CHECK (override_risk IS NULL OR override_risk IN ('low', 'medium', 'high', 'critical'));
-- An override is whole or absent: never a category without its risk, reason or author.
ALTER TABLE tools ADD CONSTRAINT tools_override_complete CHECK (
    (override_category IS NULL) = (override_risk IS NULL)
    AND (override_category IS NULL) = (override_reason IS NULL)
    AND (override_category IS NULL) = (override_by IS NULL)
    AND (override_category IS NULL) = (override_at IS NULL)
    AND (override_category IS NULL) = (override_fingerprint IS NULL)
);
ALTER TABLE tools ADD CONSTRAINT tools_override_reason_not_blank
    CHECK (override_reason IS NULL OR length(btrim(override_reason)) > 0);

-- Every override set or removed: who, when, from what to what. Append-only: the
-- store has no statement that changes or deletes a row. No foreign key to the
-- server, so the history outlives a deleted server; it goes with its tenant.
CREATE TABLE tool_classification_changes (
    id             uuid        NOT NULL,
    tenant_id      uuid        NOT NULL,
    server_id      uuid        NOT NULL,
    tool_name      text        NOT NULL,
    at             timestamptz NOT NULL DEFAULT now(),
    actor          text        NOT NULL,
    action         text        NOT NULL,
    -- The classification in force before and after, each with where it came from.
    from_category  text        NOT NULL,
    from_risk      text        NOT NULL,
    from_override  boolean     NOT NULL,
    to_category    text        NOT NULL,
    to_risk        text        NOT NULL,
    to_override    boolean     NOT NULL,
    reason         text,
    -- The tool's fingerprint when the change was made.
    fingerprint    text        NOT NULL,
    CONSTRAINT tool_classification_changes_pkey PRIMARY KEY (tenant_id, id),
    CONSTRAINT tool_classification_changes_tenant_fk FOREIGN KEY (tenant_id)
        REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT tool_classification_changes_action_known CHECK (action IN ('set', 'removed'))
);
CREATE INDEX tool_classification_changes_tool_idx
    ON tool_classification_changes (tenant_id, server_id, tool_name, at DESC, id DESC);
