//! What each role may do: the one table of it.

use mcpgate_store::Role;

/// A thing a route can require. Which roles hold it is decided here only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read servers, their tools and classifications (never upstream credentials:
    /// no route returns them).
    ViewServers,
    /// Register, change, sync and delete servers, set their upstream credentials,
    /// approve tools and override classifications.
    ManageServers,
    /// Read and simulate policies.
    ViewPolicies,
    /// Write and roll back server policies.
    ManagePolicies,
    /// Read grants (never their tokens).
    ViewGrants,
    /// Issue, rotate and revoke grants: the answers carry tokens.
    ManageGrants,
    /// Attach a policy to a grant (no token in the answer).
    ScopeGrants,
    /// Read held calls.
    ViewApprovals,
    /// Approve or deny held calls.
    DecideApprovals,
    /// Read the data-plane audit log, and the SIEM export's status.
    ViewAudit,
    /// Configure, replace or stop the SIEM export (`/audit/export`): it sends the whole
    /// audit log to a URL of the caller's choosing and hands out its signing secret,
    /// and stopping it blinds the SIEM. An auditor reads and downloads (`ViewAudit`,
    /// `ViewAdminTrail`, held by every role) but neither points the continuous copy
    /// elsewhere nor stops it: admins only, a separation of duties.
    ManageAuditExport,
    /// List, create and revoke API keys.
    ManageApiKeys,
    /// List the tenant's members.
    ViewMembers,
    /// Invite, change the role of and remove members.
    ManageMembers,
    /// Read and export the admin audit trail.
    ViewAdminTrail,
    /// Change the tenant's settings (the audit export, sign-in options); their
    /// answers may carry secrets.
    ManageSettings,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 16] = [
        Permission::ViewServers,
        Permission::ManageServers,
        Permission::ViewPolicies,
        Permission::ManagePolicies,
        Permission::ViewGrants,
        Permission::ManageGrants,
        Permission::ScopeGrants,
        Permission::ViewApprovals,
        Permission::DecideApprovals,
        Permission::ViewAudit,
        Permission::ManageAuditExport,
        Permission::ManageApiKeys,
        Permission::ViewMembers,
        Permission::ManageMembers,
        Permission::ViewAdminTrail,
        Permission::ManageSettings,
    ];

    /// Whether `role` holds this permission.
    pub fn allows(self, role: Role) -> bool {
        use Permission as P;
        match self {
            P::ViewServers
            | P::ViewPolicies
            | P::ViewGrants
            | P::ViewApprovals
            | P::ViewAudit
            | P::ViewMembers
            | P::ViewAdminTrail => true,
            P::ManagePolicies | P::ScopeGrants => {
                matches!(role, Role::Admin | Role::PolicyManager)
            }
            P::DecideApprovals => matches!(role, Role::Admin | Role::Approver),
            P::ManageServers
            | P::ManageGrants
            | P::ManageAuditExport
            | P::ManageApiKeys
            | P::ManageMembers
            | P::ManageSettings => role == Role::Admin,
        }
    }

    /// Whether a successful request under this permission changes the tenant's
    /// configuration, and so is written to the admin audit trail.
    pub fn changes_state(self) -> bool {
        use Permission as P;
        match self {
            P::ManageServers
            | P::ManagePolicies
            | P::ManageGrants
            | P::ScopeGrants
            | P::DecideApprovals
            | P::ManageAuditExport
            | P::ManageApiKeys
            | P::ManageMembers
            | P::ManageSettings => true,
            P::ViewServers
            | P::ViewPolicies
            | P::ViewGrants
            | P::ViewApprovals
            | P::ViewAudit
            | P::ViewMembers
            | P::ViewAdminTrail => false,
        }
    }

    /// The name shown in refusals and the route table.
    pub fn as_str(self) -> &'static str {
        use Permission as P;
        match self {
            P::ViewServers => "view_servers",
            P::ManageServers => "manage_servers",
            P::ViewPolicies => "view_policies",
            P::ManagePolicies => "manage_policies",
            P::ViewGrants => "view_grants",
            P::ManageGrants => "manage_grants",
            P::ScopeGrants => "scope_grants",
            P::ViewApprovals => "view_approvals",
            P::DecideApprovals => "decide_approvals",
            P::ViewAudit => "view_audit",
            P::ManageAuditExport => "manage_audit_export",
            P::ManageApiKeys => "manage_api_keys",
            P::ViewMembers => "view_members",
            P::ManageMembers => "manage_members",
            P::ViewAdminTrail => "view_admin_trail",
            P::ManageSettings => "manage_settings",
        }
    }

    /// The roles that hold it, most powerful first.
    pub fn roles(self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| self.allows(*role))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_hold_the_permissions_whose_answers_carry_secrets() {
        // Grant tokens are shown when grants are issued or rotated; upstream
        // credentials are written (never read back) with the servers; the SIEM
        // export's signing secret when it is configured.
        for secret in [
            Permission::ManageAuditExport,
            Permission::ManageGrants,
            Permission::ManageServers,
            Permission::ManageSettings,
        ] {
            assert_eq!(secret.roles(), vec![Role::Admin], "{}", secret.as_str());
        }
    }

    #[test]
    fn admins_hold_every_permission_and_viewers_only_reading_ones() {
        for permission in Permission::ALL {
            assert!(permission.allows(Role::Admin), "{}", permission.as_str());
            assert_eq!(
                permission.allows(Role::Viewer),
                !permission.changes_state(),
                "{}",
                permission.as_str()
            );
        }
    }
}
