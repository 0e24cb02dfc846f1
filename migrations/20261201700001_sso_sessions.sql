-- The tenant whose identity provider started a dashboard session (single sign-on);
-- NULL for a password login. A tenant with sso_only admits only its own SSO sessions.
ALTER TABLE dashboard_sessions ADD COLUMN sso_tenant_id uuid;
