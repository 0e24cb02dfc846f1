//! JSON-RPC batches (protocol 2025-03-26) that contain `tools/call`: every call in the
//! batch is enforced. If all are allowed, the original bytes go upstream as one batch;
//! if any is refused, nothing is forwarded and the proxy answers the whole batch itself:
//! the refused calls with their refusal, every other request with an error saying it was
//! not run. Forwarding the allowed rest would mean re-assembling the batch, and a client
//! that batched its calls may rely on them running together.
//!
//! Batches with `tools/list` are still refused with 400 (filtering one answer inside an
//! array is not supported), and a call that needs approval is refused inside a batch
//! (a batch cannot be held): clients send those on their own. Under strict audit every
//! call's row is written before the batch is forwarded, and if one cannot be, nothing
//! is. The reservations of a forwarded batch are kept even if a call in it fails
//! upstream (the answers are not matched one by one).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::response::Response;
use http::{HeaderMap, Method, StatusCode};
use mcpgate_mcp::{error_response, Incoming, Kind, INVALID_REQUEST};
use serde_json::value::RawValue;

use super::call::Call;
use super::post::decided_notification;
use crate::auth::Caller;
use crate::enforce::{AuditNote, CallSettings, Enforcement};
use crate::error::ProxyError;
use crate::refusal::DENIED_PREFIX;
use crate::relay::{self, json_response};
use crate::state::AppState;
use crate::stream::Release;
use crate::target::Target;

const NOT_RUN: &str =
    "not run: another call in the same batch was refused; nothing in the batch was forwarded";

/// A batch message's id and, for a call, what enforcement decided.
type Decided = (Option<Box<RawValue>>, Option<(Call, Enforcement)>);

/// One message of a batch, as far as the proxy cares.
#[derive(Debug)]
pub(super) struct Item {
    id: Option<Box<RawValue>>,
    target: Option<Target>,
}

/// What the batch holds: `Ok(None)` when nothing in it is decided by the policy (relay
/// untouched), `Err` when it cannot be enforced here.
pub(super) fn inspect(incoming: &Incoming<'_>) -> Result<Option<Vec<Item>>, ProxyError> {
    let Incoming::Batch(messages) = incoming else {
        return Ok(None);
    };
    if messages.iter().any(|m| m.method() == Some("tools/list")) {
        return Err(ProxyError::BatchNotSupported);
    }
    let mut items = Vec::with_capacity(messages.len());
    for message in messages {
        let target = Target::of(message);
        if message.kind() == Kind::Notification && decided_notification(message, &target) {
            return Err(ProxyError::CallWithoutId);
        }
        let target = match (message.kind(), target) {
            (Kind::Request, Ok(target)) => target,
            (Kind::Request, Err(_)) => return Err(ProxyError::BatchNotSupported),
            _ => None,
        };
        items.push(Item {
            id: message.id().map(ToOwned::to_owned),
            target,
        });
    }
    if items.iter().all(|item| item.target.is_none()) {
        return Ok(None);
    }
    Ok(Some(items))
}

/// Enforces every call of the batch, then forwards it whole or answers it whole.
pub(super) async fn handle(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    session: Option<&str>,
    items: Vec<Item>,
    body: Bytes,
    started: Instant,
) -> Result<Response, ProxyError> {
    let settings = CallSettings::of(caller);
    let mut decided: Vec<Decided> = Vec::with_capacity(items.len());
    for item in items {
        let outcome = match (item.target, &item.id) {
            (Some(target), Some(id)) => {
                let call = Call {
                    // A batch goes upstream whole, with the client's trace context.
                    span: crate::trace::call_span(caller, &target, headers, None),
                    state: state.clone(),
                    caller: caller.clone(),
                    headers: headers.clone(),
                    session: session.map(str::to_owned),
                    upstream_url: None,
                    id: id.clone(),
                    target,
                    settings,
                    started,
                };
                let enforcement = call.decide().await;
                Some((call, enforcement))
            }
            _ => None,
        };
        decided.push((item.id, outcome));
    }
    let refused = decided.iter().any(|(_, outcome)| {
        matches!(
            outcome,
            Some((_, Enforcement::Refuse { .. } | Enforcement::Hold { .. }))
        )
    });
    if refused {
        return Ok(answer_refused(decided, None).await);
    }
    // Strict audit holds inside a batch too: every row first, or nothing runs.
    for index in 0..decided.len() {
        if let (_, Some((call, Enforcement::Forward { note, .. }))) = &decided[index] {
            if let Err(answer) = call.admit(note, None).await {
                return Ok(answer_refused(decided, Some((index, answer))).await);
            }
        }
    }
    state.metrics.overhead(started.elapsed());
    let sent = relay::send(state, caller, Method::POST, headers, session, Some(body)).await;
    match sent {
        Ok(upstream) => {
            let status = upstream.response.status();
            for (_, outcome) in &decided {
                if let Some((call, Enforcement::Forward { note, .. })) = outcome {
                    if !call.settings.strict_audit {
                        call.queue(note, Some((status, upstream.latency)), None);
                    }
                }
            }
            // The reservations stay: a batch's answers are not matched one by one.
            Ok(relay::passthrough(state, caller, upstream.response))
        }
        Err(failure) => {
            let mut answers = Vec::new();
            for (id, outcome) in decided {
                if let Some((call, Enforcement::Forward { taken, note })) = outcome {
                    Release::new(Arc::clone(&state.limiter), taken).release();
                    let error_note = AuditNote {
                        decision: "error",
                        reason: Some(failure.to_string().into()),
                        ..note
                    };
                    call.queue(&error_note, None, None);
                }
                if let Some(id) = id {
                    answers.push(failure.answer(Some(&id)));
                }
            }
            Ok(json_response(StatusCode::OK, array(answers)))
        }
    }
}

/// Nothing is forwarded: refusals for the refused calls (and `failed`, the call whose
/// strict audit row could not be written, with its answer), "not run" for every other
/// request; reservations of the allowed calls given back.
async fn answer_refused(decided: Vec<Decided>, failed: Option<(usize, Vec<u8>)>) -> Response {
    let mut answers = Vec::new();
    let (failed_index, mut failed_answer) = match failed {
        Some((index, answer)) => (Some(index), Some(answer)),
        None => (None, None),
    };
    for (index, (id, outcome)) in decided.into_iter().enumerate() {
        let answer = match outcome {
            Some((call, Enforcement::Forward { taken, .. })) if failed_index == Some(index) => {
                // Its reservation goes back; `admit` already queued the row saying why.
                Release::new(Arc::clone(&call.state.limiter), taken).release();
                failed_answer.take()
            }
            Some((call, Enforcement::Refuse { refusal, note })) => {
                Some(call.refuse(&refusal, &note).await)
            }
            Some((
                call,
                Enforcement::Forward { taken, note } | Enforcement::Hold { taken, note },
            )) => {
                let why = if note.decision == "approval_required" {
                    "needs a person's approval, which a batched call cannot wait for; send it on its own"
                } else {
                    NOT_RUN
                };
                let refusal = call.not_run(taken, note, why);
                let message = format!("{DENIED_PREFIX}{}", refusal.reason);
                Some(error_response(
                    Some(&call.id),
                    INVALID_REQUEST,
                    &message,
                    None,
                ))
            }
            None => id.map(|id| error_response(Some(&id), INVALID_REQUEST, NOT_RUN, None)),
        };
        answers.extend(answer);
    }
    json_response(StatusCode::OK, array(answers))
}

/// `[a,b,c]` from already-serialised messages.
fn array(answers: Vec<Vec<u8>>) -> Vec<u8> {
    let mut body = Vec::with_capacity(answers.iter().map(|a| a.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (index, answer) in answers.into_iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend(answer);
    }
    body.push(b']');
    body
}
