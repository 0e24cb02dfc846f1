//! Hold and resume: a call that needs a person's approval is held while the client's
//! POST is answered as `text/event-stream` at once (keep-alive comments, so load
//! balancers do not cut it), and resumes on the same stream when the approval is decided.
//!
//! The decision arrives through the `mcpgate:changes` channel (`Change::Approval`, which
//! wakes the waiting call), with a periodic read of the approval row as the fallback:
//! the decision may be made through another replica's API, or its message lost. The
//! counters were reserved before the hold; denial, expiry and a client that goes away
//! give them back. A client that disconnects leaves the approval pending until it
//! expires (nobody marks it: approving it later does nothing).

pub(crate) mod task;
mod waiters;

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures_util::StreamExt;
use http::{header, HeaderName, HeaderValue, StatusCode};
use mcpgate_store::approvals::{self, Approval, NewApproval};
use mcpgate_store::{ApprovalId, StoreError};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::enforce::AuditNote;
use crate::limiter::Taken;
use crate::mcp::call::{Call, Forwarded};
use crate::refusal::{Refusal, RefusalKind};
use crate::relay::json_response;
use crate::slots::{Slot, SlotKind};
use crate::stream::Release;
use crate::target::Target;
use crate::tasks::{CreatedTask, TaskOwner};
use waiters::Registration;
pub(crate) use waiters::Waiters;

type Frames = mpsc::Sender<Bytes>;

/// Holds `call`: stores the approval, audits `approval_required`, and answers with an
/// event stream that the waiting task feeds. If the approval cannot be stored the call
/// is answered at once with an error and its reservation released.
pub(crate) async fn hold(
    call: Call,
    body: Bytes,
    taken: Taken,
    note: AuditNote,
    as_task: bool,
) -> Response {
    let state = &call.state;
    let mut release = Release::new(Arc::clone(&state.limiter), taken);
    let Some(slot) = state.slots.take(call.caller.grant_id, SlotKind::Held) else {
        release.release();
        let max = state.slots.max(SlotKind::Held);
        let refusal = Refusal::new(
            RefusalKind::Policy,
            format!("this grant already has {max} calls waiting for approval; wait for a decision before asking for more"),
            note.rule.clone(),
        );
        let refused = AuditNote {
            decision: "deny",
            reason: Some(refusal.reason.clone()),
            ..note
        };
        return json_response(StatusCode::OK, call.refuse(&refusal, &refused).await);
    };
    let timeout = call.settings.approval_timeout;
    let new = NewApproval {
        id: ApprovalId::new(),
        server_id: call.caller.server.id,
        grant_id: Some(call.caller.grant_id),
        tool: approval_subject(&call),
        arguments: approval_arguments(&call),
        rule: note.rule.as_deref().map(str::to_owned),
        reason: note.reason.as_deref().map(str::to_owned),
        expires_at: Utc::now()
            + chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX),
    };
    let stored = approvals::create_approval(state.cache.db(), call.caller.tenant, &new).await;
    let approval = match stored {
        Ok(approval) => approval,
        Err(error) => {
            tracing::error!(%error, "storing an approval failed; the call is refused");
            release.release();
            let message = "the call needs a person's approval, but the approval could not be \
                recorded; the call was not made. Try again shortly.";
            let error_note = AuditNote {
                decision: "error",
                reason: Some(message.into()),
                ..note
            };
            call.queue(&error_note, None, None);
            return json_response(StatusCode::OK, call.upstream_error(message));
        }
    };
    if call.audit(&note, None, None).await.is_err() {
        // Strict audit: the hold itself could not be recorded, so the call does not wait
        // and its approval is closed rather than left for someone to approve in vain.
        release.release();
        let db = state.cache.db();
        let closed = approvals::decide_approval(
            db,
            call.caller.tenant,
            approval.id,
            "expired",
            "mcpgate",
            None,
        )
        .await;
        if let Err(error) = closed {
            tracing::warn!(%error, approval = %approval.id, "closing an unrecorded approval failed");
        }
        let refusal = Refusal::new(
            RefusalKind::AuditUnavailable,
            "the audit log cannot be written and this server's policy requires every call to \
             be recorded first (settings.audit: strict); the call was not made",
            note.rule.clone(),
        );
        return json_response(StatusCode::OK, call.render(&refusal));
    }
    let (frames, receiver) = mpsc::channel::<Bytes>(16);
    // Answered now as a task, whose answer waits in Redis for tasks/get; or a stream.
    let reply = match as_task {
        true => {
            let answer = task_answer(&call, &approval, note.reason.as_deref()).await;
            let tenant = call.caller.tenant;
            let collected = task::collect(
                state.clone(),
                tenant,
                approval.id,
                call.id.clone(),
                receiver,
            );
            tokio::spawn(collected);
            Reply::Task(answer)
        }
        false => Reply::Stream(receiver),
    };
    let held = Held {
        registration: state.approvals.register(approval.id),
        call,
        body,
        release,
        note,
        approval: approval.id,
        _slot: slot,
    };
    tokio::spawn(held.wait(frames));
    let receiver = match reply {
        Reply::Stream(receiver) => receiver,
        Reply::Task(answer) => return json_response(StatusCode::OK, answer),
    };
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|frame| (Ok::<_, Infallible>(frame), receiver))
    });
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// How a held call's client is answered.
enum Reply {
    /// On this stream, as the wait goes on.
    Stream(mpsc::Receiver<Bytes>),
    /// At once, with this task.
    Task(Vec<u8>),
}

/// The task a held call is answered with, bound to the call's grant and tool.
async fn task_answer(call: &Call, approval: &Approval, reason: Option<&str>) -> Vec<u8> {
    let created = task::created(approval, reason);
    let ttl = u64::try_from(created["ttlMs"].as_i64().unwrap_or_default()).ok();
    call.state
        .tasks
        .bind(
            call.caller.tenant,
            call.caller.server.id,
            &CreatedTask {
                id: format!("{}{}", task::APPROVAL_TASK_PREFIX, approval.id),
                ttl: ttl.map(std::time::Duration::from_millis),
            },
            TaskOwner {
                grant: call.caller.grant_id,
                tool: call.target.name().unwrap_or_default().to_owned(),
            },
        )
        .await;
    task::reply(&call.id, &created)
}

/// A call waiting for its decision.
struct Held {
    call: Call,
    body: Bytes,
    release: Release,
    note: AuditNote,
    approval: ApprovalId,
    registration: Registration,
    /// The grant's held-call slot, given back when the wait ends.
    _slot: Slot,
}

/// How a wait ended.
enum Outcome {
    Decided(Box<Approval>),
    TimedOut,
    ClientGone,
}

impl Held {
    async fn wait(self, frames: Frames) {
        let timeout = self.call.settings.approval_timeout;
        let opening = format!(": held for approval {}\n\n", self.approval);
        if frames.send(Bytes::from(opening)).await.is_err() {
            return self.client_gone();
        }
        let outcome = self.decision(&frames, Instant::now() + timeout).await;
        let approval = match outcome {
            Outcome::ClientGone => return self.client_gone(),
            Outcome::TimedOut => match self.expire().await {
                Some(decided) => decided,
                None => return self.answer_expired(&frames, "mcpgate").await,
            },
            Outcome::Decided(approval) => *approval,
        };
        let who = approval.decided_by.as_deref().unwrap_or("unknown");
        match approval.status.as_str() {
            "approved" => self.resume(&frames, who.to_owned()).await,
            "denied" => {
                let reason = match approval.decision_reason.as_deref() {
                    Some(why) if !why.is_empty() => format!("denied by {who}: {why}"),
                    _ => format!("denied by {who}"),
                };
                let actor = who.to_owned();
                self.refuse(&frames, RefusalKind::ApprovalDenied, reason, &actor)
                    .await;
            }
            _ => self.answer_expired(&frames, who).await,
        }
    }

    /// Waits for the approval to leave `pending`: woken by a change message, or reading
    /// the row every poll interval; keeps the stream alive meanwhile.
    async fn decision(&self, frames: &Frames, deadline: Instant) -> Outcome {
        let state = &self.call.state;
        let tenant = self.call.caller.tenant;
        let mut keep_alive = tokio::time::interval(state.settings.approval_keep_alive);
        keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        keep_alive.tick().await;
        let mut poll = tokio::time::interval(state.settings.approval_poll_interval);
        poll.set_missed_tick_behavior(MissedTickBehavior::Delay);
        poll.tick().await;
        loop {
            tokio::select! {
                () = frames.closed() => return Outcome::ClientGone,
                () = tokio::time::sleep_until(deadline) => return Outcome::TimedOut,
                _ = keep_alive.tick() => {
                    if frames.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                        return Outcome::ClientGone;
                    }
                    continue;
                }
                () = self.registration.notify.notified() => {}
                _ = poll.tick() => {}
            }
            match approvals::approval(state.cache.db(), tenant, self.approval).await {
                Ok(approval) if approval.status == "pending" => {}
                Ok(approval) => return Outcome::Decided(Box::new(approval)),
                Err(error) => {
                    tracing::warn!(%error, approval = %self.approval, "reading a held approval failed; retrying");
                }
            }
        }
    }

    /// Marks the approval expired; if someone decided it meanwhile, that decision.
    async fn expire(&self) -> Option<Approval> {
        let db = self.call.state.cache.db();
        let tenant = self.call.caller.tenant;
        let expired =
            approvals::decide_approval(db, tenant, self.approval, "expired", "mcpgate", None).await;
        match expired {
            Ok(_) => None,
            Err(StoreError::Conflict { .. }) => approvals::approval(db, tenant, self.approval)
                .await
                .ok()
                .filter(|approval| approval.status != "pending"),
            Err(error) => {
                tracing::warn!(%error, approval = %self.approval, "marking an approval expired failed");
                None
            }
        }
    }

    fn client_gone(mut self) {
        tracing::info!(approval = %self.approval, "the client of a held call went away; the approval stays pending until it expires");
        self.release.release();
    }

    async fn answer_expired(self, frames: &Frames, actor: &str) {
        let after = humanize(self.call.settings.approval_timeout);
        let reason = format!("approval timed out after {after}; nobody approved the call");
        let actor = actor.to_owned();
        self.refuse(frames, RefusalKind::ApprovalExpired, reason, &actor)
            .await;
    }

    async fn refuse(mut self, frames: &Frames, kind: RefusalKind, reason: String, actor: &str) {
        self.release.release();
        let refusal = Refusal::new(kind, reason, self.note.rule.clone());
        let note = AuditNote {
            decision: kind.audit_decision(),
            reason: Some(refusal.reason.clone()),
            ..self.note.clone()
        };
        // Refused either way: a strict write that fails is logged by `audit`.
        let _ = self.call.audit(&note, None, Some(actor)).await;
        let _ = frames
            .send(message_frame(&self.call.render(&refusal)))
            .await;
    }

    /// Approved: the grant and server are checked again as they are now (a revocation,
    /// expiry, narrowed scope, deleted server or a policy that now denies the tool wins
    /// over the approval), then the original bytes go upstream and the answer streams
    /// back as events, read exactly as an unheld call's answer ([`Call::relay_answer`]).
    async fn resume(mut self, frames: &Frames, actor: String) {
        match crate::auth::recheck(&self.call.state, &self.call.caller).await {
            Ok(caller) => self.call.caller = caller,
            Err(reason) => {
                let reason = format!("approved by {actor}, but {reason}; the call was not made");
                return self
                    .refuse(frames, RefusalKind::Policy, reason, &actor)
                    .await;
            }
        }
        if let Err(refusal) = crate::enforce::still_allowed(&self.call.caller, &self.call.target) {
            let reason = format!("approved by {actor}, but {}", refusal.reason);
            return self
                .refuse(frames, RefusalKind::Policy, reason, &actor)
                .await;
        }
        let note = AuditNote {
            decision: "approved",
            ..self.note.clone()
        };
        let taken = self.release.into_taken();
        let forwarded = self
            .call
            .forward(self.body, taken, note, Some(&actor))
            .await;
        let response = match forwarded {
            Forwarded::Answer(answer) => {
                let _ = frames.send(message_frame(&answer)).await;
                return;
            }
            Forwarded::Upstream { response, release } => {
                self.call.relay_answer(response, release).await
            }
        };
        if !response.status().is_success() {
            let message = format!("the upstream answered HTTP {}", response.status());
            let _ = frames
                .send(message_frame(&self.call.upstream_error(&message)))
                .await;
            return;
        }
        let streamed = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("text/event-stream"));
        let mut body = response.into_body().into_data_stream();
        if streamed {
            while let Some(frame) = body.next().await {
                match frame {
                    Ok(frame) if frame.is_empty() => {}
                    Ok(frame) => {
                        if frames.send(frame).await.is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
            return;
        }
        // A JSON answer, already read whole (and capped) by `relay_answer`.
        let mut answer = Vec::new();
        while let Some(Ok(chunk)) = body.next().await {
            answer.extend_from_slice(&chunk);
        }
        let _ = frames.send(message_frame(&answer)).await;
    }
}

/// What the approval names: the tool, or for another method the method and its target.
fn approval_subject(call: &Call) -> String {
    match (&call.target, call.target.name()) {
        (Target::Tool { name, .. }, _) => name.clone(),
        (Target::Method { method, .. }, Some(name)) => format!("{method} {name}"),
        (Target::Method { method, .. }, None) => method.clone(),
    }
}

/// The arguments a person sees to decide: values are needed to judge a call, so they
/// are kept whatever `audit_arguments` says, but with secrets redacted as an audited
/// call's are. Display only: an approved call sends the held bytes.
fn approval_arguments(call: &Call) -> serde_json::Value {
    crate::audit::redacted_arguments(call.target.arguments())
}

/// One SSE `message` event carrying a JSON-RPC message (which never contains a newline
/// as the proxy and `serde_json` write it; an upstream's body is split defensively).
pub(crate) fn message_frame(json: &[u8]) -> Bytes {
    let text = String::from_utf8_lossy(json);
    let mut frame = String::with_capacity(json.len() + 24);
    frame.push_str("event: message\n");
    for line in text.lines() {
        frame.push_str("data: ");
        frame.push_str(line);
        frame.push('\n');
    }
    frame.push('\n');
    Bytes::from(frame)
}

/// `5m`, `90s`, `2h`: how the policy writes spans.
fn humanize(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_frame_is_one_sse_event() {
        assert_eq!(
            message_frame(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
            Bytes::from_static(
                b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"
            )
        );
        assert_eq!(
            message_frame(b"{\n}"),
            Bytes::from_static(b"event: message\ndata: {\ndata: }\n\n")
        );
    }

    #[test]
    fn timeouts_read_as_the_policy_writes_them() {
        use std::time::Duration;
        assert_eq!(humanize(Duration::from_secs(300)), "5m");
        assert_eq!(humanize(Duration::from_secs(90)), "90s");
        assert_eq!(humanize(Duration::from_secs(7200)), "2h");
    }
}
