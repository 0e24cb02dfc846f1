-- The audit log, partitioned by day (issue 17, item 3).
--
-- One table grew by every call of every tenant; now `audit_events` is partitioned by
-- range of `at`, one partition per UTC day (`audit_events_pYYYYMMDD`), created ahead
-- by the API's maintenance task (`audit_events_create_partitions`) and dropped whole
-- once a day is older than the longest retention any tenant has
-- (`audit_events_drop_partitions`). Rows of tenants with a shorter retention are
-- deleted from the partitions that remain.
--
-- `position` is the order rows are read in, both by the API's cursor and by the SIEM
-- export: assigned from one sequence while the writer holds a transaction-level
-- advisory lock, so positions are committed in the order they are assigned and a row
-- can never become visible behind a position a reader has already passed (which
-- `(at, id)` from several proxies' clocks, or a batch retried after an outage, could).

-- How long each tenant's audit rows are kept; NULL is the deployment's
-- MCPGATE_AUDIT_RETENTION_DAYS.
ALTER TABLE tenants ADD COLUMN audit_retention_days integer;
ALTER TABLE tenants ADD CONSTRAINT tenants_audit_retention_days_range
    CHECK (audit_retention_days BETWEEN 1 AND 3650);

ALTER TABLE audit_events RENAME TO audit_events_before_partitioning;
ALTER TABLE audit_events_before_partitioning
    RENAME CONSTRAINT audit_events_pkey TO audit_events_before_partitioning_pkey;
ALTER TABLE audit_events_before_partitioning
    RENAME CONSTRAINT audit_events_tenant_fk TO audit_events_before_partitioning_tenant_fk;
ALTER INDEX audit_events_tenant_at_idx RENAME TO audit_events_before_partitioning_at_idx;

CREATE SEQUENCE audit_events_position_seq AS bigint;

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
    -- Never written by the writer: the sequence assigns it under the write lock.
    position         bigint      NOT NULL DEFAULT nextval('audit_events_position_seq'),
    -- A partitioned table's unique keys must hold the partition key; `at` is the
    -- event's own, so a retried batch still conflicts with the rows it already wrote.
    CONSTRAINT audit_events_pkey PRIMARY KEY (tenant_id, id, at),
    CONSTRAINT audit_events_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) PARTITION BY RANGE (at);
ALTER SEQUENCE audit_events_position_seq OWNED BY audit_events.position;

-- The cursor: newest first by position, per tenant.
CREATE INDEX audit_events_tenant_position_idx ON audit_events (tenant_id, position);
-- The dashboard's and SIEM triage's usual filter (denied, limited, held...).
CREATE INDEX audit_events_tenant_decision_position_idx
    ON audit_events (tenant_id, decision, position);

-- Creates the daily partitions from `first_day` to `last_day` (UTC days, inclusive)
-- that do not exist yet; returns how many it created.
CREATE FUNCTION audit_events_create_partitions(first_day date, last_day date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    day date := first_day;
    created integer := 0;
    name text;
BEGIN
    WHILE day <= last_day LOOP
        name := 'audit_events_p' || to_char(day, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF audit_events FOR VALUES FROM (%L) TO (%L)',
                name,
                day::timestamp AT TIME ZONE 'UTC',
                (day + 1)::timestamp AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
        day := day + 1;
    END LOOP;
    RETURN created;
END $$;

-- Drops every partition whose whole range ends at or before `cutoff`; returns the
-- names dropped.
CREATE FUNCTION audit_events_drop_partitions(cutoff timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    part record;
    upper_bound timestamptz;
BEGIN
    FOR part IN
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'audit_events'::regclass
    LOOP
        upper_bound := substring(part.bound FROM 'TO \(''([^'']+)''\)')::timestamptz;
        IF upper_bound IS NOT NULL AND upper_bound <= cutoff THEN
            EXECUTE format('DROP TABLE %I', part.relname);
            RETURN NEXT part.relname;
        END IF;
    END LOOP;
END $$;

-- Everything before today lands in one partition, dropped like a day once its end is
-- older than the longest retention; from today on, one partition per day, two weeks
-- ahead (and as far as any row already written with a later clock).
DO $$
DECLARE
    today date := (now() AT TIME ZONE 'UTC')::date;
    last_row date;
BEGIN
    EXECUTE format(
        'CREATE TABLE audit_events_before_%s PARTITION OF audit_events FOR VALUES FROM (MINVALUE) TO (%L)',
        to_char(today, 'YYYYMMDD'),
        today::timestamp AT TIME ZONE 'UTC');
    SELECT (max(at) AT TIME ZONE 'UTC')::date INTO last_row FROM audit_events_before_partitioning;
    PERFORM audit_events_create_partitions(today, greatest(today + 14, last_row));
END $$;

-- The rows already written keep their order: by time, then id, as the old cursor read them.
INSERT INTO audit_events (
    id, tenant_id, at, server_id, grant_id, request_id, method, tool, decision, rule,
    reason, policy_version, upstream_status, latency_us, argument_keys, arguments, actor,
    position)
SELECT id, tenant_id, at, server_id, grant_id, request_id, method, tool, decision, rule,
    reason, policy_version, upstream_status, latency_us, argument_keys, arguments, actor,
    row_number() OVER (ORDER BY at, id)
FROM audit_events_before_partitioning;
SELECT setval('audit_events_position_seq', last)
FROM (SELECT max(position) AS last FROM audit_events) AS written
WHERE last IS NOT NULL;

DROP TABLE audit_events_before_partitioning;
