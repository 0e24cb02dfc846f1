//! Writing the admin audit trail: the guard calls [`after_change`] once a request
//! under a changing permission succeeded; a handler adds what changed by putting
//! [`Changes`] in its response's extensions.
//!
//! The row is written after the change commits, not inside its transaction: a
//! failed write is logged at error level with the whole event, so nothing is lost
//! silently, but the trail can then miss a change the log still has.

use std::net::IpAddr;

use axum::response::Response;
use mcpgate_store::admin_audit::{self, NewAdminEvent};
use mcpgate_store::TenantId;
use serde_json::{Map, Value};

use super::routes::RouteRule;
use super::{Access, Permission};
use crate::extract::{Caller, Principal};
use crate::state::AppState;

tokio::task_local! {
    /// What the domain functions of the request being guarded said they changed.
    static NOTED: std::cell::RefCell<Option<Value>>;
}

/// Records what a change did, from wherever the change is made (a domain function
/// shared by the REST route and the dashboard form): the guard writes it to the
/// trail with the request. Outside a guarded request it does nothing.
pub(crate) fn note(changes: Value) {
    let _ = NOTED.try_with(|noted| *noted.borrow_mut() = Some(changes));
}

/// Runs `request` with a place for [`note`], and returns what was noted.
pub(super) async fn noting<F: std::future::Future<Output = Response>>(
    request: F,
) -> (Response, Option<Value>) {
    NOTED
        .scope(std::cell::RefCell::new(None), async move {
            let response = request.await;
            let noted = NOTED.with(|noted| noted.borrow_mut().take());
            (response, noted)
        })
        .await
}

/// What a change did, beyond its route and target: a handler sets it on its
/// response (`response.extensions_mut().insert(Changes(..))`).
#[derive(Debug, Clone)]
pub(crate) struct Changes(pub(crate) Value);

/// Attaches `changes` to `response` for the trail.
pub(crate) fn with_changes(mut response: Response, changes: Value) -> Response {
    response.extensions_mut().insert(Changes(changes));
    response
}

/// The area of the configuration a permission changes.
fn resource(permission: Permission) -> &'static str {
    use Permission as P;
    match permission {
        P::ManageServers | P::ViewServers => "servers",
        P::ManagePolicies | P::ViewPolicies => "policies",
        P::ManageGrants | P::ScopeGrants | P::ViewGrants => "grants",
        P::DecideApprovals | P::ViewApprovals => "approvals",
        P::ManageApiKeys => "api_keys",
        P::ManageMembers | P::ViewMembers => "members",
        P::ViewAudit | P::ViewAdminTrail | P::ManageAuditExport => "audit",
        P::ManageSettings => "settings",
    }
}

/// Records the change `response` answered, if it succeeded (2xx, or a dashboard
/// form's redirect).
pub(super) async fn after_change(
    state: &AppState,
    rule: &RouteRule,
    caller: &Caller,
    client: Option<IpAddr>,
    target: Vec<(String, String)>,
    status: axum::http::StatusCode,
    changes: Option<Value>,
) {
    if !(status.is_success() || status.is_redirection()) {
        return;
    }
    let Access::Requires(permission) = rule.access else {
        return;
    };
    let event = NewAdminEvent {
        actor_kind: "",
        actor_id: uuid::Uuid::nil(),
        actor: caller.actor.clone(),
        actor_role: caller.role,
        client_address: client.map(|ip| ip.to_string()),
        resource: resource(permission),
        method: rule.method.to_string(),
        route: rule.path.clone(),
        target: Value::Object(
            target
                .into_iter()
                .map(|(key, value)| (key, Value::String(value)))
                .collect::<Map<_, _>>(),
        ),
        changes,
        status: i16::try_from(status.as_u16()).unwrap_or(i16::MAX),
    };
    record(state, caller.tenant, caller.principal, event).await;
}

/// Appends `event` as `principal`'s; used by the guard, and directly by the few
/// changes made outside a permission (a person joining through an invitation).
pub(crate) async fn record(
    state: &AppState,
    tenant: TenantId,
    principal: Principal,
    mut event: NewAdminEvent,
) {
    (event.actor_kind, event.actor_id) = match principal {
        Principal::Member(user) => ("member", user.as_uuid()),
        Principal::ApiKey(key) => ("api_key", key.as_uuid()),
    };
    if let Err(error) = admin_audit::record(&state.db, tenant, &event).await {
        tracing::error!(
            %error,
            %tenant,
            actor = %event.actor,
            method = %event.method,
            route = %event.route,
            target = %event.target,
            changes = ?event.changes,
            "could not write the admin audit trail for a change that was made"
        );
    }
}

/// Records that `email` joined `invitation.tenant_id` through an invitation: a change
/// to the tenant's members made by the person joining, outside any permission.
pub(crate) async fn member_joined(
    state: &AppState,
    user: mcpgate_store::UserId,
    email: &str,
    invitation: &mcpgate_store::members::OpenInvitation,
    client: Option<IpAddr>,
) {
    let event = NewAdminEvent {
        actor_kind: "",
        actor_id: uuid::Uuid::nil(),
        actor: format!("user:{email}"),
        actor_role: invitation.role,
        client_address: client.map(|ip| ip.to_string()),
        resource: "members",
        method: "POST".into(),
        // The route without its token: the trail never holds a usable link.
        route: "/join/{token}".into(),
        target: serde_json::json!({"invitation": invitation.id, "user": user}),
        changes: Some(serde_json::json!({
            "joined": {"email": email, "role": invitation.role},
        })),
        status: 303,
    };
    record(state, invitation.tenant_id, Principal::Member(user), event).await;
}
