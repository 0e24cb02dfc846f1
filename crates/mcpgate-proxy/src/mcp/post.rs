//! A POST: authenticate, read the body once, parse it strictly, decide `tools/call` and
//! every other governed method ([`Target`]), filter `tools/list`, relay the plumbing
//! untouched.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::{header, HeaderMap, Method, StatusCode};
use mcpgate_mcp::{
    check_mirrors, error_response, Era, Incoming, Kind, ListKind, Message, ParseError,
    HEADER_MISMATCH,
};
use serde_json::value::RawValue;

use super::ambiguous::recover_id;
use super::batch;
use super::call::Call;
use super::upstream_session;
use crate::auth::{authenticate, Caller, UrlToken};
use crate::bridge;
use crate::enforce::{listed_visible, CallSettings};
use crate::error::ProxyError;
use crate::refusal::UPSTREAM_UNAVAILABLE;
use crate::relay::{self, is_event_stream, json_response, response_head};
use crate::settings::ProxySettings;
use crate::state::AppState;
use crate::stream::{relay_events, Hook, Watch};
use crate::target::Target;

/// The parts of the body the proxy acts on, owned so nothing borrows across an await.
enum Inbound {
    Decided {
        id: Box<RawValue>,
        target: Target,
    },
    BadParams {
        id: Box<RawValue>,
        error: ParseError,
    },
    List {
        id: Box<RawValue>,
        kind: ListKind,
    },
    Batch {
        items: Vec<batch::Item>,
    },
    /// `subscriptions/listen` (2026-07-28): a POST whose answer is a long-lived stream.
    Listen {
        id: Box<RawValue>,
    },
    Other {
        id: Option<Box<RawValue>>,
    },
}

pub(super) async fn handle(
    State(state): State<AppState>,
    Path(server_id): Path<String>,
    url_token: Option<Extension<UrlToken>>,
    request: Request,
) -> Result<Response, ProxyError> {
    let started = Instant::now();
    // The request taken apart, not `HeaderMap` + `Body` extractors: the `HeaderMap`
    // extractor clones the map on every request.
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let caller = authenticate(&state, &server_id, &headers, url_token.as_deref()).await?;
    let body = read_body(&headers, body, &state.settings).await?;
    let era = relay::era(&headers);
    // A modern request is self-contained: no session, whatever header it carries.
    let session = match era {
        Era::Handshake => upstream_session(&state, &caller, &headers)?,
        Era::Modern => None,
    };
    state.audit.grant_used(caller.grant_id);

    let incoming = match mcpgate_mcp::parse(&body) {
        Ok(incoming) => incoming,
        Err(error) => return Ok(parse_failure(&body, error)),
    };
    // The proxy decides on the body: headers that say otherwise would let a router and
    // the upstream see another request than the one decided.
    let mirrors = relay::mirrors(&headers);
    for message in incoming.messages() {
        if let Err(mismatch) = check_mirrors(message, era, mirrors) {
            let answer = error_response(message.id(), HEADER_MISMATCH, &mismatch.0, None);
            return Ok(json_response(StatusCode::BAD_REQUEST, answer));
        }
    }
    let mut headers = headers;
    let mut session = session;
    if era == Era::Modern && bridge::needed(&caller) {
        match bridge_request(&state, &caller, &headers, &incoming).await {
            Bridging::Through(bridged) => {
                headers = bridge::headers(&headers, &bridged);
                session = Some(bridged.session);
            }
            Bridging::Answered(response) => return Ok(response),
        }
    }
    let inbound = inspect(&state, &incoming)?;
    let session_id = session.as_deref();
    // The body as it came, to the server (and session) the caller addressed.
    let forward = || {
        relay::send(
            &state,
            &caller,
            Method::POST,
            &headers,
            session_id,
            Some(body.clone()),
        )
    };
    match inbound {
        Inbound::BadParams { id, error } => Ok(json_response(
            StatusCode::OK,
            error_response(Some(&id), error.code(), &error.to_string(), None),
        )),
        Inbound::Decided { id, target } => {
            if let Some(state_echoed) = target.request_state() {
                if let Err(answer) = check_state(&state, &caller, &id, state_echoed).await {
                    return Ok(answer);
                }
            }
            let span = crate::trace::call_span(&caller, &target, &headers, Some(&body));
            let call = Call {
                span,
                settings: CallSettings::of(&caller),
                session,
                upstream_url: None,
                state,
                caller,
                headers,
                id,
                target,
                started,
            };
            Ok(call.run(body).await)
        }
        Inbound::Batch { items } => {
            batch::handle(&state, &caller, &headers, session_id, items, body, started).await
        }
        Inbound::List { id, kind } => {
            state.metrics.overhead(started.elapsed());
            let sent = forward().await;
            match sent {
                Ok(upstream) => Ok(filter_list(&state, &caller, id, kind, upstream.response).await),
                Err(failure) => Ok(failure_answer(Some(&id), &failure)),
            }
        }
        Inbound::Listen { id } => {
            let slot = super::stream_slot(&state, &caller)?;
            let sent = forward().await;
            match sent {
                Ok(upstream) => Ok(super::long_lived(&state, &caller, upstream.response, slot)),
                Err(failure) => Ok(failure_answer(Some(&id), &failure)),
            }
        }
        Inbound::Other { id } => {
            state.metrics.overhead(started.elapsed());
            let sent = forward().await;
            match sent {
                Ok(upstream) => Ok(relay::passthrough(&state, &caller, upstream.response)),
                Err(failure) if id.is_some() => Ok(failure_answer(id.as_deref(), &failure)),
                Err(failure) => Err(ProxyError::UpstreamUnavailable(failure.to_string())),
            }
        }
    }
}

/// A retry's `requestState` must be one the upstream handed to this grant: the upstream
/// sees every grant under the server's one credential and cannot tell them apart. A
/// state handed to another grant, or never handed out (tampered), is an invalid
/// parameter, answered as an upstream answers a state it cannot verify (400, `-32602`).
async fn check_state(
    state: &AppState,
    caller: &Caller,
    id: &RawValue,
    echoed: &str,
) -> Result<(), Response> {
    let owner = state
        .tasks
        .state_owner(caller.tenant, caller.server.id, echoed)
        .await;
    match owner {
        Ok(Some(grant)) if grant == caller.grant_id => Ok(()),
        Ok(_) => {
            let data = serde_json::json!({"reason": "invalid_request_state"});
            let answer = error_response(
                Some(id),
                mcpgate_mcp::INVALID_PARAMS,
                "Invalid or expired requestState: it was not handed to this grant",
                Some(&data),
            );
            Err(json_response(StatusCode::BAD_REQUEST, answer))
        }
        Err(reason) => Err(upstream_error(
            Some(id),
            &format!("{reason}; the call was not made. Try again shortly."),
        )),
    }
}

/// What bridging a modern request to a handshake-only upstream came to.
enum Bridging {
    /// Send it on this upstream session.
    Through(bridge::Bridged),
    /// The proxy answered it itself (`server/discover`, an unbridgeable method, a failure).
    Answered(Response),
}

async fn bridge_request(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    incoming: &Incoming<'_>,
) -> Bridging {
    let Incoming::Single(message) = incoming else {
        return Bridging::Answered(ProxyError::BatchNotSupported.into_response());
    };
    let id = message.id();
    let capabilities = message
        .params()
        .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
        .and_then(|params| {
            params
                .get("_meta")?
                .get("io.modelcontextprotocol/clientCapabilities")
                .cloned()
        })
        .unwrap_or_else(|| serde_json::json!({}));
    let method = message.method().unwrap_or_default();
    if method == "subscriptions/listen" {
        let answer = error_response(
            id,
            mcpgate_mcp::METHOD_NOT_FOUND,
            "subscriptions/listen is not available: this server speaks only the handshake era, which mcpgate bridges request by request",
            None,
        );
        return Bridging::Answered(json_response(StatusCode::OK, answer));
    }
    let discover = method == "server/discover";
    match bridge::session(state, caller, headers, &capabilities, discover).await {
        Ok(bridged) if discover => {
            let initialized = bridged.initialized.unwrap_or_default();
            let result = bridge::discover_result(&initialized).to_string();
            // The client's id as it sent it, as every answer of the proxy's echoes it.
            let id = id.map_or("null", RawValue::get);
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#);
            Bridging::Answered(json_response(StatusCode::OK, body.into_bytes()))
        }
        Ok(bridged) => Bridging::Through(bridged),
        Err(failure) => Bridging::Answered(failure_answer(id, &failure)),
    }
}

/// The request body, refused above `max_body_bytes` (413) or when the client takes
/// longer than `body_read_timeout` to send it (408): a slow sender must not hold a
/// connection and its buffer for ever.
pub(super) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    settings: &ProxySettings,
) -> Result<Bytes, ProxyError> {
    let max = settings.max_body_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(ProxyError::BodyTooLarge(max));
    }
    match tokio::time::timeout(settings.body_read_timeout, axum::body::to_bytes(body, max)).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(ProxyError::BodyTooLarge(max)),
        Err(_) => Err(ProxyError::BodyTimeout(settings.body_read_timeout)),
    }
}

fn inspect(state: &AppState, incoming: &Incoming<'_>) -> Result<Inbound, ProxyError> {
    match incoming {
        Incoming::Batch(messages) => {
            state.metrics.request("batch");
            let max = state.settings.max_batch_messages;
            if messages.len() > max {
                return Err(ProxyError::BatchTooLarge {
                    messages: messages.len(),
                    max,
                });
            }
            Ok(match batch::inspect(incoming)? {
                Some(items) => Inbound::Batch { items },
                None => Inbound::Other { id: None },
            })
        }
        Incoming::Single(message) => inspect_one(state, message),
    }
}

fn inspect_one(state: &AppState, message: &Message<'_>) -> Result<Inbound, ProxyError> {
    let id = message.id().map(ToOwned::to_owned);
    let label = match message.kind() {
        Kind::Request => message.method().unwrap_or("other"),
        Kind::Notification => "notification",
        Kind::Response => "response",
    };
    state.metrics.request(label);
    let target = Target::of(message);
    let list_kind = message.method().and_then(ListKind::of_method);
    match (message.kind(), id) {
        (Kind::Notification, _) if decided_notification(message, &target) => {
            Err(ProxyError::CallWithoutId)
        }
        (Kind::Request, Some(id)) => Ok(match (target, list_kind) {
            (Ok(Some(target)), _) => Inbound::Decided { id, target },
            (Ok(None), Some(kind)) => Inbound::List { id, kind },
            (Ok(None), None) if message.method() == Some("subscriptions/listen") => {
                Inbound::Listen { id }
            }
            (Ok(None), None) => Inbound::Other { id: Some(id) },
            (Err(error), _) => Inbound::BadParams { id, error },
        }),
        (_, id) => Ok(Inbound::Other { id }),
    }
}

/// A notification the policy would have decided were it a request: without an id it
/// would reach the upstream unchecked, so it is refused (400).
pub(super) fn decided_notification(
    message: &Message<'_>,
    target: &Result<Option<Target>, ParseError>,
) -> bool {
    message.method() == Some("tools/call") || matches!(target, Ok(Some(_)) | Err(_))
}

/// Malformed JSON is `-32700` at HTTP 400; an ambiguous body is answered as
/// [`super::ambiguous`] describes; any other invalid message `-32600` at HTTP 400.
fn parse_failure(body: &[u8], error: ParseError) -> Response {
    if let ParseError::Ambiguous { key } = &error {
        if let Some(id) = recover_id(body) {
            let message = format!("ambiguous request: key {key:?} appears twice in one object");
            let answer = error_response(Some(&id), error.code(), &message, None);
            return json_response(StatusCode::OK, answer);
        }
    }
    ProxyError::Parse(error).into_response()
}

/// The JSON-RPC error for `id` that says why the message did not reach the upstream
/// (HTTP 200: a request failed, the session did not).
fn failure_answer(id: Option<&RawValue>, failure: &relay::UpstreamFailure) -> Response {
    json_response(StatusCode::OK, failure.answer(id))
}

/// A JSON-RPC error for `id` saying the upstream gave no answer (HTTP 200: a request
/// failed, the session did not).
fn upstream_error(id: Option<&RawValue>, message: &str) -> Response {
    json_response(
        StatusCode::OK,
        error_response(id, UPSTREAM_UNAVAILABLE, message, None),
    )
}

/// Relays a list answer (tools, prompts, resources) without the items this caller may
/// not see.
async fn filter_list(
    state: &AppState,
    caller: &Caller,
    id: Box<RawValue>,
    kind: ListKind,
    upstream: relay::UpstreamResponse,
) -> Response {
    let (status, headers) = response_head(state, caller, &upstream);
    if !status.is_success() {
        return relay::passthrough(state, caller, upstream);
    }
    if is_event_stream(upstream.headers()) {
        let hook = Hook::ToolsList {
            id,
            caller: caller.clone(),
            drift: Arc::clone(&state.drift),
            kind,
        };
        let max = state.settings.max_upstream_message_bytes;
        let body = Body::from_stream(relay_events(
            upstream.bytes_stream(),
            Some(hook),
            Some(Watch::new(&state.drift, caller)),
            max,
        ));
        return (status, headers, body).into_response();
    }
    let max = state.settings.max_upstream_message_bytes;
    let filtered = match relay::read_capped(upstream, max).await {
        Ok(bytes) => mcpgate_mcp::filter_list(&bytes, kind, |key, definition| {
            listed_visible(&state.drift, caller, kind, key, definition)
        })
        .map_err(|error| error.to_string()),
        Err(failure) => Err(failure.to_string()),
    };
    match filtered {
        Ok(body) => (status, headers, body).into_response(),
        Err(error) => upstream_error(
            Some(&id),
            &format!("unusable list answer from the upstream: {error}"),
        ),
    }
}
