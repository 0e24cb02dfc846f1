//! JSON-RPC batches (protocol 2025-03-26) that contain `tools/call`: every call in the
//! batch is enforced. If all are allowed, the original bytes go upstream as one batch;
//! if any is refused, nothing is forwarded and the proxy answers the whole batch itself:
//! the refused calls with their refusal, every other request with an error saying it was
//! not run. Forwarding the allowed rest would mean re-assembling the batch, and a client
//! that batched its calls may rely on them running together.
//!
//! Batches with `tools/list` are still refused with 400 (filtering one answer inside an
//! array is not supported), and a call that needs approval is refused inside a batch
//! (a batch cannot be held): clients send those on their own. The reservations of a
//! forwarded batch are kept even if a call in it fails upstream (the answers are not
//! matched one by one).

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
use crate::enforce::{enforce, AuditNote, CallSettings, Enforcement};
use crate::error::ProxyError;
use crate::limiter::Taken;
use crate::refusal::UPSTREAM_UNAVAILABLE;
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
    let mut decided = Vec::with_capacity(items.len());
    for item in items {
        let outcome = match (item.target, &item.id) {
            (Some(target), Some(id)) => {
                let enforcement =
                    enforce(caller, settings, &state.limiter, &state.metrics, &target).await;
                let call = Call {
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
        return Ok(answer_refused(state, decided).await);
    }
    state.metrics.overhead(started.elapsed());
    let sent = relay::send(state, caller, Method::POST, headers, session, Some(body)).await;
    match sent {
        Ok(upstream) => {
            let status = upstream.response.status();
            for (_, outcome) in &decided {
                if let Some((call, Enforcement::Forward { note, .. })) = outcome {
                    call.queue(note, Some((status, upstream.latency)), None);
                }
            }
            // The reservations stay: a batch's answers are not matched one by one.
            Ok(relay::passthrough(state, caller, upstream.response))
        }
        Err(failure) => {
            let mut answers = Vec::new();
            for (id, outcome) in decided {
                if let Some((call, Enforcement::Forward { taken, note })) = outcome {
                    give_back(state, taken);
                    let error_note = AuditNote {
                        decision: "error",
                        reason: Some(failure.to_string().into()),
                        ..note
                    };
                    call.queue(&error_note, None, None);
                }
                if let Some(id) = id {
                    answers.push(error_response(
                        Some(&id),
                        UPSTREAM_UNAVAILABLE,
                        &failure.to_string(),
                        None,
                    ));
                }
            }
            Ok(json_response(StatusCode::OK, array(answers)))
        }
    }
}

/// Nothing is forwarded: refusals for the refused calls, "not run" for every other
/// request; reservations of the allowed calls given back.
async fn answer_refused(state: &AppState, decided: Vec<Decided>) -> Response {
    let mut answers = Vec::new();
    for (id, outcome) in decided {
        let answer = match outcome {
            Some((call, Enforcement::Refuse { refusal, note })) => {
                call.queue(&note, None, None);
                Some(call.render(&refusal))
            }
            Some((
                call,
                Enforcement::Forward { taken, note } | Enforcement::Hold { taken, note },
            )) => {
                give_back(state, taken);
                let reason = if note.decision == "approval_required" {
                    "needs a person's approval, which a batched call cannot wait for; send it on its own"
                } else {
                    NOT_RUN
                };
                let not_run = AuditNote {
                    decision: "deny",
                    reason: Some(reason.into()),
                    ..note
                };
                call.queue(&not_run, None, None);
                let message = format!("[POLICY DENIED] {reason}");
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

fn give_back(state: &AppState, taken: Taken) {
    Release::new(Arc::clone(&state.limiter), taken).release();
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
