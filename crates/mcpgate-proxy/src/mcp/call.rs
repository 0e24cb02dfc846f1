//! One decided request (a `tools/call` or another governed method) on its way through.
//! [`Call::conclude`] is the one place a decision is carried out: the refusal answered
//! and audited, the hold started, or the call admitted (its row written first under
//! strict audit) and forwarded, with its reservation kept or given back. Transports and
//! protocol eras only say how the [`Concluded`] outcome reaches the client.

mod record;

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode};
use mcpgate_mcp::error_response;
use mcpgate_policy::DenyResponse;
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::enforce::{enforce, AuditNote, CallSettings, Enforcement};
use crate::limiter::Taken;
use crate::refusal::{Answering, Refusal, RefusalKind, UPSTREAM_UNAVAILABLE};
use crate::relay::{self, is_event_stream, json_response, response_head};
use crate::state::AppState;
use crate::stream::{answer_to, relay_events, settle, Hook, Release, TaskBinder, Watch};
use crate::target::Target;
use crate::tasks::TaskOwner;

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
    pub(crate) upstream_url: Option<http::Uri>,
    pub(crate) id: Box<RawValue>,
    pub(crate) target: Target,
    pub(crate) settings: CallSettings,
    pub(crate) started: Instant,
    /// Its OpenTelemetry span ([`crate::trace`]); disabled unless traces are exported.
    pub(crate) span: tracing::Span,
}

/// Whether the transport can keep a call waiting for a person.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Holding {
    /// Its answer is a stream the proxy owns (a Streamable HTTP POST).
    Possible,
    /// It cannot (a batch, the legacy transport): a held call is refused with this reason.
    Impossible(&'static str),
}

/// How a decided call ended, for its transport to deliver.
pub(crate) enum Concluded {
    /// The proxy's own JSON-RPC answer for the call's id (a refusal, an upstream error).
    Answer(Vec<u8>),
    /// The upstream answered: relay it, keeping or giving back `release`.
    Upstream {
        call: Box<Call>,
        response: relay::UpstreamResponse,
        release: Release,
    },
    /// Held for approval: the stream the waiting call writes to.
    Held(Response),
}

/// What forwarding produced: an upstream answer to relay, or the proxy's own JSON-RPC
/// answer for the call's id.
pub(crate) enum Forwarded {
    Upstream {
        response: relay::UpstreamResponse,
        release: Release,
    },
    Answer(Vec<u8>),
}

impl Call {
    /// Decides the call: the policies, then its counters reserved. A request about a
    /// task ([`crate::tasks`]) is decided as the tool that created it, for the grant that
    /// created it only, and counts against no limit (a poll is not a call).
    pub(crate) async fn decide(&self) -> Enforcement {
        let state = &self.state;
        if let Some(task) = self.target.task_id() {
            return self.decide_task(task).await;
        }

        enforce(
            &self.caller,
            self.settings,
            &state.limiter,
            &state.metrics,
            &self.target,
        )
        .await
    }

    async fn decide_task(&self, task: &str) -> Enforcement {
        let caller = &self.caller;
        let policy_version = caller.server.policy.as_ref().and_then(|p| p.version);
        let refuse = |kind: RefusalKind, reason: String| {
            let refusal = Refusal::new(kind, reason, None);
            let note = AuditNote {
                decision: kind.audit_decision(),
                rule: None,
                reason: Some(refusal.reason.clone()),
                policy_version,
            };
            Enforcement::Refuse { refusal, note }
        };
        let owner = match self
            .state
            .tasks
            .owner(caller.tenant, caller.server.id, task)
            .await
        {
            Ok(Some(owner)) if owner.grant == caller.grant_id => owner,
            Ok(_) => {
                return refuse(
                    RefusalKind::Policy,
                    format!("task '{task}' was not created through this grant"),
                )
            }
            Err(reason) => {
                tracing::warn!(%reason, "looking up a task's grant failed");
                return refuse(
                    RefusalKind::LimiterUnavailable,
                    format!("{reason}; the request was not made. Try again shortly."),
                );
            }
        };
        let as_tool = Target::Tool {
            name: owner.tool.clone(),
            arguments: serde_json::Value::Object(serde_json::Map::new()),
            request_state: None,
        };
        match crate::enforce::still_allowed(caller, &as_tool) {
            Ok(()) => Enforcement::Forward {
                taken: Taken::default(),
                note: AuditNote {
                    decision: "allow",
                    rule: None,
                    reason: Some(format!("task of tool '{}'", owner.tool).into()),
                    policy_version,
                },
            },
            Err(refusal) => {
                let note = AuditNote {
                    decision: "deny",
                    rule: refusal.rule.clone(),
                    reason: Some(refusal.reason.clone()),
                    policy_version,
                };
                Enforcement::Refuse { refusal, note }
            }
        }
    }

    /// Carries out `enforcement` for a call whose original bytes are `body`.
    pub(crate) async fn conclude(
        self,
        enforcement: Enforcement,
        body: Bytes,
        holding: Holding,
    ) -> Concluded {
        if let (Enforcement::Forward { note, .. }, Some(approval)) =
            (&enforcement, self.approval_task())
        {
            // A held call's task lives in the proxy: the proxy answers for it.
            self.queue(note, None, None);
            return Concluded::Answer(crate::approval::task::answer(&self, approval).await);
        }
        match (enforcement, holding) {
            (Enforcement::Refuse { refusal, note }, _) => {
                Concluded::Answer(self.refuse(&refusal, &note).await)
            }
            (Enforcement::Hold { taken, note }, Holding::Possible) => {
                // A modern client that declares the tasks extension gets a task to poll
                // rather than a stream held open.
                let as_task = self.target.is_tool()
                    && relay::era(&self.headers) == mcpgate_mcp::Era::Modern
                    && crate::approval::task::tasks_declared(&body);
                Concluded::Held(crate::approval::hold(self, body, taken, note, as_task).await)
            }
            (Enforcement::Hold { taken, note }, Holding::Impossible(why)) => {
                let refusal = self.not_run(taken, note, why);
                Concluded::Answer(self.render(&refusal))
            }
            (Enforcement::Forward { taken, note }, _) => {
                self.state.metrics.overhead(self.started.elapsed());
                match self.forward(body, taken, note, None).await {
                    Forwarded::Answer(answer) => Concluded::Answer(answer),
                    Forwarded::Upstream { response, release } => Concluded::Upstream {
                        call: Box::new(self),
                        response,
                        release,
                    },
                }
            }
        }
    }

    /// A Streamable HTTP POST carrying this one call: decided, concluded, answered.
    pub(crate) async fn run(self, body: Bytes) -> Response {
        let enforcement = self.decide().await;
        match self.conclude(enforcement, body, Holding::Possible).await {
            Concluded::Answer(answer) => json_response(StatusCode::OK, answer),
            Concluded::Upstream {
                call,
                response,
                release,
            } => call.relay_answer(response, release).await,
            Concluded::Held(response) => response,
        }
    }

    /// The refusal's answer, audited (a refusal fails closed whether or not its row could
    /// be written).
    pub(crate) async fn refuse(&self, refusal: &Refusal, note: &AuditNote) -> Vec<u8> {
        let _ = self.audit(note, None, None).await;
        self.render(refusal)
    }

    /// A call that was allowed (or held) but will not run, because of `why`: its
    /// reservation given back and the denial audited; the refusal to answer with.
    pub(crate) fn not_run(&self, taken: Taken, note: AuditNote, why: &str) -> Refusal {
        Release::new(Arc::clone(&self.state.limiter), taken).release();
        let refusal = Refusal::new(RefusalKind::Policy, why, note.rule.clone());
        let refused = AuditNote {
            decision: "deny",
            reason: Some(refusal.reason.clone()),
            ..note
        };
        self.queue(&refused, None, None);
        refusal
    }

    /// Under strict audit, writes the row of an admitted call before it is forwarded;
    /// `Err` is the refusal to answer when it could not be written (the row saying so is
    /// queued). Without strict audit there is nothing to do first.
    pub(crate) async fn admit(&self, note: &AuditNote, actor: Option<&str>) -> Result<(), Vec<u8>> {
        if !self.settings.strict_audit || self.audit(note, None, actor).await.is_ok() {
            return Ok(());
        }
        let refusal = Refusal::new(
            RefusalKind::AuditUnavailable,
            AUDIT_UNAVAILABLE_REASON,
            None,
        );
        let error_note = AuditNote {
            decision: "error",
            reason: Some(refusal.reason.clone()),
            ..note.clone()
        };
        self.queue(&error_note, None, actor);
        Err(self.render(&refusal))
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
        if let Err(refusal) = self.admit(&note, actor).await {
            release.release();
            return Forwarded::Answer(refusal);
        }
        let url = self
            .upstream_url
            .clone()
            .unwrap_or_else(|| self.caller.server.uri.clone());
        let headers = self.upstream_headers();
        let sent = relay::send_to(
            state,
            &self.caller,
            url,
            Method::POST,
            &headers,
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
                Forwarded::Answer(failure.answer(Some(&self.id)))
            }
        }
    }

    /// The upstream's answer as the client's response: status, headers and body as they
    /// come (SSE frame by frame). Only an answer that says the call failed (an HTTP error,
    /// a JSON-RPC error for its id) gives the reservation back: the request reached the
    /// upstream, so a missing or unreadable answer may still mean the call ran.
    pub(crate) async fn relay_answer(
        &self,
        response: relay::UpstreamResponse,
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
        let tasks = self.task_binder();
        if is_event_stream(response.headers()) {
            let hook = Hook::ToolCall {
                id: self.id.clone(),
                release,
                tasks,
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
                settle(answer_to(&bytes, &self.id), &mut release, tasks.as_ref())
                    .finish()
                    .await;
                (status, headers, bytes).into_response()
            }
            Err(failure) => {
                release.keep();
                json_response(StatusCode::OK, self.upstream_error(&failure.to_string()))
            }
        }
    }

    /// The approval behind this `tasks/*` request's task, when it is a held call's.
    fn approval_task(&self) -> Option<mcpgate_store::ApprovalId> {
        self.target
            .task_id()
            .and_then(crate::approval::task::approval_of)
    }

    /// Where a task or a `requestState` this call's answer hands out is bound: to its
    /// grant, and the tool (or method) it was for.
    fn task_binder(&self) -> Option<TaskBinder> {
        let owner = match &self.target {
            Target::Tool { name, .. } => name.clone(),
            Target::Method { method, .. } => method.clone(),
        };
        Some(TaskBinder {
            bindings: self.state.tasks.clone(),
            tenant: self.caller.tenant,
            server: self.caller.server.id,
            owner: TaskOwner {
                grant: self.caller.grant_id,
                tool: owner,
            },
        })
    }

    pub(crate) fn render(&self, refusal: &Refusal) -> Vec<u8> {
        let style = if self.target.is_tool() {
            self.settings.deny_response
        } else {
            DenyResponse::JsonrpcError
        };
        let answering = Answering {
            modern: relay::era(&self.headers) == mcpgate_mcp::Era::Modern,
            output_schema: match &self.target {
                Target::Tool { name, .. } => self
                    .caller
                    .server
                    .tools
                    .get(name)
                    .is_some_and(|tool| tool.output_schema),
                Target::Method { .. } => false,
            },
        };
        refusal.render(&self.id, style, answering)
    }

    /// A JSON-RPC error for the call's id saying the upstream gave no answer.
    pub(crate) fn upstream_error(&self, message: &str) -> Vec<u8> {
        error_response(Some(&self.id), UPSTREAM_UNAVAILABLE, message, None)
    }
}
