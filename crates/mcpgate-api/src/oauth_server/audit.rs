//! The flow's events in the tenant's audit log, beside the grant's calls: consent,
//! every token issue and refresh, every revocation the flow itself makes (a reused
//! code or refresh token) and every one a client asks for (RFC 7009). Never a token,
//! code or verifier: only ids and the client.

use chrono::Utc;
use mcpgate_store::audit::{insert_audit_events, AuditEvent};
use mcpgate_store::{AuditEventId, GrantId, ServerId, TenantId};

use crate::state::AppState;

/// What happened.
#[derive(Debug, Clone, Copy)]
pub(super) enum FlowEvent {
    /// A member allowed a client (a code was issued).
    Consent,
    /// A member refused a client.
    ConsentDenied,
    /// A code was exchanged: the grant exists now, with its first tokens.
    Issue,
    /// A refresh token was rotated.
    Refresh,
    /// A spent code or refresh token came back: the grant was revoked.
    ReuseRevoked,
    /// The client revoked its own tokens (RFC 7009): the grant was revoked.
    ClientRevoked,
    /// A client asked to revoke a token issued to another client: nothing changed.
    RevocationRefused,
}

impl FlowEvent {
    fn method(self) -> &'static str {
        match self {
            FlowEvent::Consent | FlowEvent::ConsentDenied => "oauth/consent",
            FlowEvent::Issue => "oauth/token",
            FlowEvent::Refresh => "oauth/refresh",
            FlowEvent::ReuseRevoked | FlowEvent::ClientRevoked | FlowEvent::RevocationRefused => {
                "oauth/revoke"
            }
        }
    }

    fn decision(self) -> &'static str {
        match self {
            // A client's revocation request was carried out: allowed; one refused: denied.
            FlowEvent::Consent
            | FlowEvent::Issue
            | FlowEvent::Refresh
            | FlowEvent::ClientRevoked => "allow",
            FlowEvent::ConsentDenied | FlowEvent::ReuseRevoked | FlowEvent::RevocationRefused => {
                "deny"
            }
        }
    }
}

/// One audit row for the flow. A failure to write it is logged, not fatal: the grant
/// and its tokens are the source of truth, and the caller already holds them.
pub(super) async fn record(
    state: &AppState,
    tenant: TenantId,
    event: FlowEvent,
    server: Option<ServerId>,
    grant: Option<GrantId>,
    actor: &str,
    reason: String,
) {
    let row = AuditEvent {
        id: AuditEventId::new(),
        tenant_id: tenant,
        at: Utc::now(),
        server_id: server,
        grant_id: grant,
        request_id: None,
        method: event.method().to_owned(),
        tool: None,
        decision: event.decision().to_owned(),
        rule: None,
        reason: Some(reason),
        policy_version: None,
        upstream_status: None,
        latency_us: None,
        argument_keys: Vec::new(),
        arguments: None,
        actor: Some(actor.to_owned()),
    };
    if let Err(error) = insert_audit_events(&state.db, &[row]).await {
        tracing::error!(%error, method = event.method(), "could not audit an OAuth event");
    }
}
