//! The 2026-07-28 era on `/mcp`: stateless requests, each carrying its own envelope in
//! `params._meta` and mirroring its method, name and version in headers.
//!
//! The order of checks follows the Python SDK server (`shared/inbound.py`), so the
//! demo refuses what a real upstream refuses, with the same codes and statuses.

mod answer;
mod error;
mod headers;
mod ladder;
mod listen;
mod mrtr;
mod render;
mod stamp;
mod tasks;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use mcpgate_mcp::{parse, Kind};
use tokio::sync::broadcast;

use crate::server::SharedState;
use crate::ListChanged;

pub(crate) use mrtr::IssuedStates;
pub(crate) use tasks::Tasks;

/// What the modern era keeps between requests: no sessions, only the work it handed out.
#[derive(Debug)]
pub(crate) struct ModernState {
    pub(crate) tasks: Tasks,
    pub(crate) issued_states: IssuedStates,
    /// List changes announced to `subscriptions/listen` streams.
    pub(crate) changes: broadcast::Sender<ListChanged>,
}

impl ModernState {
    pub(crate) fn new(changes: broadcast::Sender<ListChanged>) -> Self {
        Self {
            tasks: Tasks::default(),
            issued_states: IssuedStates::default(),
            changes,
        }
    }
}

pub(crate) async fn post(state: SharedState, headers: HeaderMap, body: Bytes) -> Response {
    if !accepts_json_and_sse(&headers) {
        return StatusCode::NOT_ACCEPTABLE.into_response();
    }
    let incoming = match parse(&body) {
        Ok(incoming) => incoming,
        Err(e) => return error::ModernError::new(e.code(), e.to_string()).response(None),
    };
    let message = match ladder::single(&incoming) {
        Ok(message) => message,
        Err(error) => return error.response(None),
    };
    if message.kind() == Kind::Notification {
        // No client→server notification is defined on HTTP at 2026-07-28: accept and drop.
        return match ladder::notification(&headers) {
            Ok(()) => StatusCode::ACCEPTED.into_response(),
            Err(error) => error.response(None),
        };
    }
    let request = match ladder::envelope(message, &headers) {
        Ok(request) => request,
        Err(error) => return error.response(message.id()),
    };
    if request.method == "subscriptions/listen" {
        return listen::open(&state, &request);
    }
    match answer::answer(&state, &request).await {
        Ok(reply) => render::reply(&state, reply).await,
        Err(error) => error.response(Some(request.id)),
    }
}

/// GET and DELETE have no meaning without sessions (transports: "405 Method Not Allowed").
pub(crate) fn no_stream() -> Response {
    let mut response = StatusCode::METHOD_NOT_ALLOWED.into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// A modern POST must accept both answers (the Python SDK says 406 otherwise).
fn accepts_json_and_sse(headers: &HeaderMap) -> bool {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .collect();
    let any = accept.contains(&"*/*");
    any || (accept.contains(&"application/json") && accept.contains(&"text/event-stream"))
}
