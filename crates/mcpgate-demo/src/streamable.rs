//! Streamable HTTP (2025-03-26 and later) on `/mcp`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use mcpgate_mcp::sse::{message_event, KEEP_ALIVE};
use mcpgate_mcp::{parse, Incoming, Kind, INVALID_REQUEST};
use tokio_stream::wrappers::{IntervalStream, ReceiverStream};

use crate::dispatch::{dispatch, Reply};
use crate::era::era_of;
use crate::record::record;
use crate::server::{json_rpc_error, sse_response, AppState, Refusal, SharedState};
use crate::{modern, Era, ResponseMode};

const SESSION_HEADER: &str = "mcp-session-id";

pub(crate) async fn post(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let era = era_of(&headers);
    record(&state.recorded, era, &method, &uri, &headers, &body);
    if let Err(refusal) = state.check_auth(&headers) {
        return refusal.into_response();
    }
    if era == Era::Modern {
        return modern::post(state, headers, body).await;
    }
    let incoming = match parse(&body) {
        Ok(incoming) => incoming,
        Err(e) => return json_rpc_error(StatusCode::BAD_REQUEST, e.code(), &e.to_string()),
    };
    let messages = incoming.messages();
    let initialize = messages
        .iter()
        .find(|m| m.kind() == Kind::Request && m.method() == Some("initialize"));
    let new_session = match (initialize, &incoming) {
        (Some(_), Incoming::Batch(_)) => {
            return json_rpc_error(
                StatusCode::BAD_REQUEST,
                INVALID_REQUEST,
                "initialize must not be part of a batch",
            )
        }
        (Some(_), Incoming::Single(_)) => Some(state.new_session(None).0),
        (None, _) => {
            if let Err(refusal) = known_session(&state, &headers) {
                return refusal.into_response();
            }
            None
        }
    };

    let mut replies = Vec::with_capacity(messages.len());
    for message in messages {
        replies.push(dispatch(&state, message, false).await);
    }
    let mut response = render(&state, replies, matches!(incoming, Incoming::Batch(_))).await;
    if let Some(id) = new_session {
        response.headers_mut().insert(
            SESSION_HEADER,
            id.parse().expect("a UUID is a header value"),
        );
    }
    response
}

/// The server-initiated stream: keep-alives until the session or the server ends.
pub(crate) async fn get(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let era = era_of(&headers);
    record(&state.recorded, era, &method, &uri, &headers, b"");
    if let Err(refusal) = state.check_auth(&headers) {
        return refusal.into_response();
    }
    if era == Era::Modern {
        return modern::no_stream();
    }
    let session = match known_session(&state, &headers) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    let ended = state.session(&session).map(|s| s.ended).unwrap_or_default();
    let stream = keep_alives(state.settings.keep_alive_interval)
        .take_until(ended.cancelled_owned())
        .map(Ok::<_, Infallible>);
    sse_response(Body::from_stream(stream))
}

pub(crate) async fn delete(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let era = era_of(&headers);
    record(&state.recorded, era, &method, &uri, &headers, b"");
    if let Err(refusal) = state.check_auth(&headers) {
        return refusal.into_response();
    }
    if era == Era::Modern {
        return modern::no_stream();
    }
    match known_session(&state, &headers) {
        Ok(session) => {
            state.end_session(&session);
            StatusCode::OK.into_response()
        }
        Err(refusal) => refusal.into_response(),
    }
}

pub(crate) fn keep_alives(every: Duration) -> impl futures_util::Stream<Item = Bytes> {
    let start = tokio::time::Instant::now() + every;
    IntervalStream::new(tokio::time::interval_at(start, every))
        .map(|_| Bytes::from_static(KEEP_ALIVE))
}

/// The request's session id if the server knows it.
fn known_session(state: &AppState, headers: &HeaderMap) -> Result<String, Refusal> {
    let id = headers
        .get(SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::MissingSession)?;
    state.session(id).ok_or(Refusal::UnknownSession)?;
    Ok(id.to_owned())
}

async fn render(state: &SharedState, replies: Vec<Reply>, batch: bool) -> Response {
    let mut events = Vec::new();
    let mut progress = None;
    for reply in replies {
        match reply {
            Reply::Accepted => {}
            Reply::Message(json) => events.push(json),
            Reply::Progress {
                notifications,
                interval,
                response,
            } if !batch => progress = Some((notifications, interval, response)),
            Reply::Progress { response, .. } => events.push(response),
            Reply::Fail(text) => {
                return (StatusCode::INTERNAL_SERVER_ERROR, text).into_response();
            }
            Reply::Hang => {
                state.shutdown.cancelled().await;
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
        }
    }
    if let Some((notifications, interval, response)) = progress {
        return progress_stream(state, notifications, interval, response, true);
    }
    if events.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    match state.settings.response_mode {
        ResponseMode::Json => {
            let body = if batch {
                format!("[{}]", events.join(","))
            } else {
                events.remove(0)
            };
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        ResponseMode::Sse => {
            let mut body = Vec::new();
            for event in events {
                body.extend_from_slice(&message_event(&event, Some(&state.next_event_id())));
            }
            sse_response(Body::from(body))
        }
    }
}

/// Progress notifications `interval` apart, then the response, as one SSE stream;
/// `event_ids` numbers the events (the legacy era resumes with them, the modern has none).
pub(crate) fn progress_stream(
    state: &SharedState,
    notifications: Vec<String>,
    interval: Duration,
    response: String,
    event_ids: bool,
) -> Response {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(4);
    let state = SharedState::clone(state);
    tokio::spawn(async move {
        let id = || event_ids.then(|| state.next_event_id());
        for notification in notifications {
            let event = message_event(&notification, id().as_deref());
            if sender.send(event).await.is_err() {
                return;
            }
            tokio::time::sleep(interval).await;
        }
        let _ = sender.send(message_event(&response, id().as_deref())).await;
    });
    sse_response(Body::from_stream(
        ReceiverStream::new(receiver).map(Ok::<_, Infallible>),
    ))
}
