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
use crate::session;
use crate::slots::SlotKind;
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
    session::open(&state.secret_key, text, caller.grant_id, caller.server.id)
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
    let upstream_session = upstream_session(&state, &caller, &headers)?;
    state.audit.grant_used(caller.grant_id);
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
    if method == Method::GET {
        let slot = state.slots.take(caller.grant_id, SlotKind::Stream).ok_or(
            ProxyError::TooManyStreams(state.slots.max(SlotKind::Stream)),
        )?;
        // The session's stream lasts as long as the session: at shutdown it ends, so the
        // drain is not held up and the client reconnects (to another replica). The slot
        // goes with the stream.
        let (status, headers) = relay::response_head(&state, &caller, &upstream.response);
        // Parsed as it passes, to hear `notifications/tools/list_changed` and to filter any
        // tool list a hostile upstream slips onto it.
        let watch = Watch::new(&state.drift, &caller);
        let max = state.settings.max_upstream_message_bytes;
        let lists = Hook::StrayLists {
            caller: caller.clone(),
            drift: std::sync::Arc::clone(&state.drift),
        };
        let stream = relay_events(
            upstream.response.bytes_stream(),
            Some(lists),
            Some(watch),
            max,
        )
        .take_until(state.shutdown.clone().cancelled_owned())
        .map(move |frame| {
            let _held = &slot;
            frame
        });
        return Ok((status, headers, axum::body::Body::from_stream(stream)).into_response());
    }
    Ok(relay::passthrough(&state, &caller, upstream.response).into_response())
}
