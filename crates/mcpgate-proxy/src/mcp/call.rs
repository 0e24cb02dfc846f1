//! One decided request (a `tools/call` or another governed method) on its way through: enforcement, then a refusal, a forward, or a
//! hold for approval ([`crate::approval`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use http::{HeaderMap, Method, StatusCode};
use mcpgate_mcp::error_response;
use mcpgate_policy::DenyResponse;
use mcpgate_store::audit::AuditEvent;
use mcpgate_store::AuditEventId;
use serde_json::value::RawValue;

use crate::audit::{argument_keys, audited_arguments};
use crate::auth::Caller;
use crate::enforce::{enforce, AuditNote, CallSettings, Enforcement};
use crate::limiter::Taken;
use crate::refusal::{Refusal, RefusalKind, UPSTREAM_UNAVAILABLE};
use crate::relay::{self, is_event_stream, json_response, response_head};
use crate::state::AppState;
use crate::stream::{relay_events, response_to, Hook, Release, Watch};
use crate::target::Target;

const AUDIT_UNAVAILABLE_REASON: &str = "the audit log cannot be written and this server's policy \
    requires every call to be recorded first (settings.audit: strict); the call was not made. \
    Try again shortly.";

/// Everything a call needs, owned, so a held call can outlive its handler.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) state: AppState,
    pub(crate) caller: Caller,
    pub(crate) headers: HeaderMap,
    pub(crate) session: Option<String>,
    /// Where to forward, when not the server's URL (a legacy server's message endpoint).
    pub(crate) upstream_url: Option<reqwest::Url>,
    pub(crate) id: Box<RawValue>,
    pub(crate) target: Target,
    pub(crate) settings: CallSettings,
    pub(crate) started: Instant,
}

/// What forwarding produced: an upstream answer to relay, or the proxy's own JSON-RPC
/// answer for the call's id.
pub(crate) enum Forwarded {
    Upstream {
        response: reqwest::Response,
        release: Release,
    },
    Answer(Vec<u8>),
}

impl Call {
    pub(crate) async fn run(self, body: Bytes) -> Response {
        let state = &self.state;
        let enforcement = enforce(
            &self.caller,
            self.settings,
            &state.limiter,
            &state.metrics,
            &self.target,
        )
        .await;
        match enforcement {
            Enforcement::Refuse { refusal, note } => {
                // A refusal fails closed whether or not its row could be written.
                let _ = self.audit(&note, None, None).await;
                json_response(StatusCode::OK, self.render(&refusal))
            }
            Enforcement::Hold { taken, note } => {
                crate::approval::hold(self, body, taken, note).await
            }
            Enforcement::Forward { taken, note } => {
                state.metrics.overhead(self.started.elapsed());
                match self.forward(body, taken, note, None).await {
                    Forwarded::Answer(answer) => json_response(StatusCode::OK, answer),
                    Forwarded::Upstream { response, release } => {
                        self.relay_answer(response, release).await
                    }
                }
            }
        }
    }

    /// Sends the original bytes upstream with the reservation `taken`; audits the
    /// decision `note` (with `actor`, who approved it, for a held call). In strict audit
    /// mode the row is written first and a failed write refuses the call.
    pub(crate) async fn forward(
        &self,
        body: Bytes,
        taken: Taken,
        note: AuditNote,
        actor: Option<&str>,
    ) -> Forwarded {
        let state = &self.state;
        let mut release = Release::new(Arc::clone(&state.limiter), taken);
        if self.settings.strict_audit && self.audit(&note, None, actor).await.is_err() {
            release.release();
            let refusal = Refusal::new(
                RefusalKind::AuditUnavailable,
                AUDIT_UNAVAILABLE_REASON,
                None,
            );
            let error_note = AuditNote {
                decision: "error",
                reason: Some(refusal.reason.clone()),
                ..note
            };
            self.queue(&error_note, None, actor);
            return Forwarded::Answer(self.render(&refusal));
        }
        let url = self
            .upstream_url
            .clone()
            .unwrap_or_else(|| self.caller.server.url.clone());
        let sent = relay::send_to(
            state,
            &self.caller,
            url,
            Method::POST,
            &self.headers,
            self.session.as_deref(),
            Some(body),
        )
        .await;
        match sent {
            Ok(upstream) => {
                if !self.settings.strict_audit {
                    let status = upstream.response.status();
                    self.queue(&note, Some((status, upstream.latency)), actor);
                }
                Forwarded::Upstream {
                    response: upstream.response,
                    release,
                }
            }
            Err(failure) => {
                release.release();
                let error_note = AuditNote {
                    decision: "error",
                    reason: Some(failure.to_string().into()),
                    ..note
                };
                self.queue(&error_note, None, actor);
                Forwarded::Answer(self.upstream_error(&failure.to_string()))
            }
        }
    }

    /// The upstream's answer as the client's response: status, headers and body as they
    /// come (SSE frame by frame). Only an answer that says the call failed (an HTTP error,
    /// a JSON-RPC error for its id) gives the reservation back: the request reached the
    /// upstream, so a missing or unreadable answer may still mean the call ran.
    pub(crate) async fn relay_answer(
        &self,
        response: reqwest::Response,
        mut release: Release,
    ) -> Response {
        let state = &self.state;
        let status = response.status();
        if !status.is_success() {
            release.release();
            return relay::passthrough(state, &self.caller, response);
        }
        let (status, headers) = response_head(state, &self.caller, &response);
        let max = state.settings.max_upstream_message_bytes;
        if is_event_stream(response.headers()) {
            let hook = Hook::ToolCall {
                id: self.id.clone(),
                release,
            };
            let body = Body::from_stream(relay_events(
                response.bytes_stream(),
                Some(hook),
                Some(Watch::new(&state.drift, &self.caller)),
                max,
            ));
            return (status, headers, body).into_response();
        }
        match relay::read_capped(response, max).await {
            Ok(bytes) => {
                if response_to(&bytes, &self.id) == Some(true) {
                    release.release();
                } else {
                    release.keep();
                }
                (status, headers, bytes).into_response()
            }
            Err(failure) => {
                release.keep();
                json_response(StatusCode::OK, self.upstream_error(&failure.to_string()))
            }
        }
    }

    pub(crate) fn render(&self, refusal: &Refusal) -> Vec<u8> {
        let style = if self.target.is_tool() {
            self.settings.deny_response
        } else {
            DenyResponse::JsonrpcError
        };
        refusal.render(&self.id, style)
    }

    /// A JSON-RPC error for the call's id saying the upstream gave no answer.
    pub(crate) fn upstream_error(&self, message: &str) -> Vec<u8> {
        error_response(Some(&self.id), UPSTREAM_UNAVAILABLE, message, None)
    }

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
        self.state.metrics.decision(note.decision);
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
        self.state.metrics.decision(note.decision);
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
