//! A call's audit row: written now in strict mode, queued otherwise.

use std::time::Duration;

use chrono::Utc;
use http::StatusCode;
use mcpgate_store::audit::AuditEvent;
use mcpgate_store::AuditEventId;

use super::Call;
use crate::audit::{argument_keys, audited_arguments};
use crate::enforce::AuditNote;

impl Call {
    /// Records the decision: written now in strict mode (an error means it was not),
    /// queued otherwise.
    pub(crate) async fn audit(
        &self,
        note: &AuditNote,
        upstream: Option<(StatusCode, Duration)>,
        actor: Option<&str>,
    ) -> Result<(), ()> {
        if !self.settings.strict_audit {
            self.queue(note, upstream, actor);
            return Ok(());
        }
        self.state
            .metrics
            .decision(self.caller.tenant, note.decision);
        self.trace_decision(note, upstream);
        let event = self.event(note, upstream, actor);
        self.state.audit.write_now(event).await.map_err(|error| {
            tracing::error!(%error, "strict audit: the call's record could not be written");
        })
    }

    /// Queues the decision's row.
    pub(crate) fn queue(
        &self,
        note: &AuditNote,
        upstream: Option<(StatusCode, Duration)>,
        actor: Option<&str>,
    ) {
        self.state
            .metrics
            .decision(self.caller.tenant, note.decision);
        self.trace_decision(note, upstream);
        self.state.audit.record(self.event(note, upstream, actor));
    }

    fn event(
        &self,
        note: &AuditNote,
        upstream: Option<(StatusCode, Duration)>,
        actor: Option<&str>,
    ) -> AuditEvent {
        let request_id = self
            .headers
            .get(mcpgate_service::REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        AuditEvent {
            id: AuditEventId::new(),
            tenant_id: self.caller.tenant,
            at: Utc::now(),
            server_id: Some(self.caller.server.id),
            grant_id: Some(self.caller.grant_id),
            request_id,
            method: self.target.method().to_owned(),
            tool: self.target.name().map(str::to_owned),
            decision: note.decision.to_owned(),
            rule: note.rule.as_deref().map(str::to_owned),
            reason: note.reason.as_deref().map(str::to_owned),
            policy_version: note.policy_version,
            upstream_status: upstream.map(|(status, _)| i32::from(status.as_u16())),
            latency_us: upstream
                .map(|(_, latency)| i64::try_from(latency.as_micros()).unwrap_or(i64::MAX)),
            argument_keys: argument_keys(self.target.arguments()),
            arguments: self
                .settings
                .audit_arguments
                .then(|| audited_arguments(self.target.arguments())),
            actor: actor.map(str::to_owned),
        }
    }
}
