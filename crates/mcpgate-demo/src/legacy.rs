//! The 2024-11-05 HTTP+SSE transport: `GET /sse` opens the stream and names the
//! endpoint; `POST /message?sessionId=` gets 202 and the response goes to the stream.

use std::collections::HashMap;
use std::convert::Infallible;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use mcpgate_mcp::parse;
use mcpgate_mcp::sse::{message_event, SseEventBuilder};
use tokio_stream::wrappers::UnboundedReceiverStream;

use crate::dispatch::{dispatch, Reply};
use crate::record::record;
use crate::server::{json_rpc_error, sse_response, Refusal, SharedState};
use crate::streamable::keep_alives;
use crate::Era;

pub(crate) async fn open_stream(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    record(
        &state.recorded,
        Era::Handshake,
        &method,
        &uri,
        &headers,
        b"",
    );
    if let Err(refusal) = state.check_auth(&headers) {
        return refusal.into_response();
    }
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let (id, session) = state.new_session(Some(sender));
    let endpoint = SseEventBuilder::new()
        .event("endpoint")
        .data(&format!("/message?sessionId={id}"))
        .encode();
    let guard = SessionGuard {
        state: SharedState::clone(&state),
        id,
    };
    let events = stream::select(
        UnboundedReceiverStream::new(receiver),
        keep_alives(state.settings.keep_alive_interval),
    );
    let body = stream::once(async move { endpoint })
        .chain(events)
        .take_until(session.ended.cancelled_owned())
        .map(move |bytes| {
            let _session_lives_as_long_as_the_stream = &guard;
            Ok::<_, Infallible>(bytes)
        });
    sse_response(Body::from_stream(body))
}

pub(crate) async fn post(
    State(state): State<SharedState>,
    Query(query): Query<HashMap<String, String>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(
        &state.recorded,
        Era::Handshake,
        &method,
        &uri,
        &headers,
        &body,
    );
    if let Err(refusal) = state.check_auth(&headers) {
        return refusal.into_response();
    }
    let Some(stream) = query
        .get("sessionId")
        .and_then(|id| state.session(id))
        .and_then(|session| session.stream)
    else {
        return Refusal::UnknownSession.into_response();
    };
    let incoming = match parse(&body) {
        Ok(incoming) => incoming,
        Err(e) => return json_rpc_error(StatusCode::BAD_REQUEST, e.code(), &e.to_string()),
    };
    for message in incoming.messages() {
        match dispatch(&state, message, true).await {
            Reply::Accepted | Reply::Hang => {}
            Reply::Message(json) => {
                let _ = stream.send(message_event(&json, None));
            }
            Reply::Progress {
                notifications,
                interval,
                response,
            } => {
                let stream = stream.clone();
                tokio::spawn(async move {
                    for notification in notifications {
                        let _ = stream.send(message_event(&notification, None));
                        tokio::time::sleep(interval).await;
                    }
                    let _ = stream.send(message_event(&response, None));
                });
            }
            Reply::Fail(text) => return (StatusCode::INTERNAL_SERVER_ERROR, text).into_response(),
        }
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}

/// Forgets the session when its stream is dropped (client gone or server stopping).
struct SessionGuard {
    state: SharedState,
    id: String,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.state.end_session(&self.id);
    }
}
