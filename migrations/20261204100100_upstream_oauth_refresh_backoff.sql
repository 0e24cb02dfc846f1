-- Upstream OAuth refresh failures that are not refusals (issue 15, item 2): the
-- authorization server could not be reached or answered 5xx. The connection stays
-- `connected`; the failure and the earliest next attempt are kept in the row, so every
-- replica (proxies and the API's refresher) backs off from the same schedule instead of
-- each retrying on its own. A successful refresh or a new connection clears them.
ALTER TABLE upstream_oauth_connections
    -- Failed attempts in a row since the last success; 0 when the last one worked.
    ADD COLUMN refresh_failures        integer     NOT NULL DEFAULT 0,
    -- Why the last attempt failed, for the tenant; never a token.
    ADD COLUMN refresh_failure_reason  text,
    ADD COLUMN refresh_failed_at       timestamptz,
    -- No replica refreshes before this (exponential backoff with jitter).
    ADD COLUMN next_refresh_attempt_at timestamptz,
    ADD CONSTRAINT upstream_oauth_connections_refresh_failures_counted
        CHECK (refresh_failures >= 0);
