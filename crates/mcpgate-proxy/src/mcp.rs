//! The Streamable HTTP endpoint, `/mcp/{server_id}/`: POST carries messages, GET opens
//! the server-initiated stream, DELETE ends the session.

mod ambiguous;
mod batch;
pub(crate) mod call;
pub(crate) mod legacy;
mod post;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use futures_util::StreamExt;
use http::{HeaderMap, Method};

use crate::auth::{authenticate, Caller, UrlToken};
use crate::error::ProxyError;
use crate::relay::{self, SESSION_HEADER};
use crate::slots::{Slot, SlotKind};
use crate::state::AppState;
use crate::stream::{relay_events, Hook, Watch};

pub(crate) fn router(state: AppState) -> Router {
    let endpoint = post(post::handle).get(get_stream).delete(end_session);
    Router::new()
        .route("/mcp/{server_id}", endpoint.clone())
        .route("/mcp/{server_id}/", endpoint)
        .route("/mcp/{server_id}/sse", get(legacy::open_stream))
        .route("/mcp/{server_id}/message", post(legacy::post_message))
        .with_state(state)
}

/// The upstream session behind the client's `Mcp-Session-Id`, if it sent one; a session
/// id that was not issued for this grant and server is "not found" (404, as the spec
/// says for unknown sessions), so its existence is not revealed.
pub(crate) fn upstream_session(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
) -> Result<Option<String>, ProxyError> {
    let Some(value) = headers.get(&SESSION_HEADER) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| ProxyError::SessionNotFound)?;
    state
        .session_ids
        .open(text, caller.grant_id, caller.server.id)
        .map(Some)
        .ok_or(ProxyError::SessionNotFound)
}

async fn get_stream(
    State(state): State<AppState>,
    Path(server_id): Path<String>,
    url_token: Option<Extension<UrlToken>>,
    headers: HeaderMap,
) -> Result<Response, ProxyError> {
    relay_without_body(state, server_id, url_token, headers, Method::GET).await
}

async fn end_session(
    State(state): State<AppState>,
    Path(server_id): Path<String>,
    url_token: Option<Extension<UrlToken>>,
    headers: HeaderMap,
) -> Result<Response, ProxyError> {
    relay_without_body(state, server_id, url_token, headers, Method::DELETE).await
}

async fn relay_without_body(
    state: AppState,
    server_id: String,
    url_token: Option<Extension<UrlToken>>,
    headers: HeaderMap,
    method: Method,
) -> Result<Response, ProxyError> {
    let caller = authenticate(&state, &server_id, &headers, url_token.as_deref()).await?;
    // A modern request has no session (its upstream answers GET and DELETE with 405).
    let upstream_session = match relay::era(&headers) {
        mcpgate_mcp::Era::Handshake => upstream_session(&state, &caller, &headers)?,
        mcpgate_mcp::Era::Modern => None,
    };
    state.audit.grant_used(caller.grant_id);
    let slot = match method {
        Method::GET => Some(stream_slot(&state, &caller)?),
        _ => None,
    };
    let upstream = relay::send(
        &state,
        &caller,
        method.clone(),
        &headers,
        upstream_session.as_deref(),
        None,
    )
    .await
    .map_err(|failure| ProxyError::UpstreamUnavailable(failure.to_string()))?;
    if let Some(slot) = slot {
        return Ok(long_lived(&state, &caller, upstream.response, slot));
    }
    Ok(relay::passthrough(&state, &caller, upstream.response).into_response())
}

/// A slot for one more long-lived stream of this grant, or 429.
pub(crate) fn stream_slot(state: &AppState, caller: &Caller) -> Result<Slot, ProxyError> {
    state
        .slots
        .take(caller.grant_id, SlotKind::Stream)
        .ok_or(ProxyError::TooManyStreams(
            state.slots.max(SlotKind::Stream),
        ))
}

/// A stream that lasts as long as the client wants it (the session's GET stream, a
/// 2026-07-28 `subscriptions/listen`): relayed event by event (list-changed notifications
/// heard, stray tool lists filtered) or, when it is not SSE, byte for byte; it ends at
/// shutdown, so the drain is not held up and the client reconnects (to another replica).
/// `slot` goes with the stream.
pub(crate) fn long_lived(
    state: &AppState,
    caller: &Caller,
    upstream: relay::UpstreamResponse,
    slot: Slot,
) -> Response {
    if !upstream.status().is_success() {
        return relay::passthrough(state, caller, upstream);
    }
    let (status, headers) = relay::response_head(state, caller, &upstream);
    let shutdown = state.shutdown.clone().cancelled_owned();
    let hold = move |frame| {
        let _held = &slot;
        frame
    };
    if !relay::is_event_stream(upstream.headers()) {
        let stream = upstream.bytes_stream().take_until(shutdown).map(hold);
        return (status, headers, axum::body::Body::from_stream(stream)).into_response();
    }
    let lists = Hook::StrayLists {
        caller: caller.clone(),
        drift: std::sync::Arc::clone(&state.drift),
    };
    let watch = Watch::new(&state.drift, caller);
    let max = state.settings.max_upstream_message_bytes;
    let stream = relay_events(upstream.bytes_stream(), Some(lists), Some(watch), max)
        .take_until(shutdown)
        .map(hold);
    (status, headers, axum::body::Body::from_stream(stream)).into_response()
}
