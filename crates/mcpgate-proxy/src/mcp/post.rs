//! A POST: authenticate, read the body once, parse it strictly, enforce `tools/call`,
//! filter `tools/list`, relay everything else untouched.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http::{header, HeaderMap, Method, StatusCode};
use mcpgate_mcp::{error_response, filter_tools_list, Incoming, Kind, Message, ParseError};
use serde_json::value::RawValue;
use serde_json::Value;

use super::ambiguous::recover_id;
use super::batch;
use super::call::Call;
use super::upstream_session;
use crate::auth::{authenticate, Caller, UrlToken};
use crate::enforce::{tool_visible, CallSettings};
use crate::error::ProxyError;
use crate::refusal::UPSTREAM_UNAVAILABLE;
use crate::relay::{self, is_event_stream, json_response, response_head};
use crate::state::AppState;
use crate::stream::{relay_events, Hook};

/// The parts of the body the proxy acts on, owned so nothing borrows across an await.
enum Inbound {
    ToolCall {
        id: Box<RawValue>,
        name: String,
        arguments: Value,
    },
    BadToolCall {
        id: Box<RawValue>,
        error: ParseError,
    },
    ToolsList {
        id: Box<RawValue>,
    },
    Batch {
        items: Vec<batch::Item>,
    },
    Other {
        id: Option<Box<RawValue>>,
    },
}

pub(super) async fn handle(
    State(state): State<AppState>,
    Path(server_id): Path<String>,
    url_token: Option<Extension<UrlToken>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ProxyError> {
    let started = Instant::now();
    let caller = authenticate(&state, &server_id, &headers, url_token.as_deref()).await?;
    let body = read_body(&headers, body, state.settings.max_body_bytes).await?;
    let session = upstream_session(&state, &caller, &headers)?;
    state.audit.grant_used(caller.grant_id);

    let inbound = match mcpgate_mcp::parse(&body) {
        Ok(incoming) => inspect(&state, &incoming)?,
        Err(error) => return Ok(parse_failure(&body, error)),
    };
    let session_id = session.as_deref();
    match inbound {
        Inbound::BadToolCall { id, error } => Ok(json_response(
            StatusCode::OK,
            error_response(Some(&id), error.code(), &error.to_string(), None),
        )),
        Inbound::ToolCall {
            id,
            name,
            arguments,
        } => {
            let call = Call {
                settings: CallSettings::of(&caller),
                session,
                upstream_url: None,
                state,
                caller,
                headers,
                id,
                tool: name,
                arguments,
                started,
            };
            Ok(call.run(body).await)
        }
        Inbound::Batch { items } => {
            batch::handle(&state, &caller, &headers, session_id, items, body, started).await
        }
        Inbound::ToolsList { id } => {
            state.metrics.overhead(started.elapsed());
            let sent = relay::send(
                &state,
                &caller,
                Method::POST,
                &headers,
                session_id,
                Some(body),
            )
            .await;
            match sent {
                Ok(upstream) => Ok(filter_list(&state, &caller, id, upstream.response).await),
                Err(failure) => Ok(upstream_error(Some(&id), &failure.to_string())),
            }
        }
        Inbound::Other { id } => {
            state.metrics.overhead(started.elapsed());
            let sent = relay::send(
                &state,
                &caller,
                Method::POST,
                &headers,
                session_id,
                Some(body),
            )
            .await;
            match sent {
                Ok(upstream) => Ok(relay::passthrough(&state, &caller, upstream.response)),
                Err(failure) if id.is_some() => {
                    Ok(upstream_error(id.as_deref(), &failure.to_string()))
                }
                Err(failure) => Err(ProxyError::UpstreamUnavailable(failure.to_string())),
            }
        }
    }
}

async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> Result<Bytes, ProxyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max as u64) {
        return Err(ProxyError::BodyTooLarge(max));
    }
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ProxyError::BodyTooLarge(max))
}

fn inspect(state: &AppState, incoming: &Incoming<'_>) -> Result<Inbound, ProxyError> {
    match incoming {
        Incoming::Batch(_) => {
            state.metrics.request("batch");
            Ok(match batch::inspect(incoming)? {
                Some(items) => Inbound::Batch { items },
                None => Inbound::Other { id: None },
            })
        }
        Incoming::Single(message) => {
            if message.kind() == Kind::Notification && message.method() == Some("tools/call") {
                return Err(ProxyError::CallWithoutId);
            }
            Ok(inspect_one(state, message))
        }
    }
}

fn inspect_one(state: &AppState, message: &Message<'_>) -> Inbound {
    let id = message.id().map(ToOwned::to_owned);
    let label = match message.kind() {
        Kind::Request => message.method().unwrap_or("other"),
        Kind::Notification => "notification",
        Kind::Response => "response",
    };
    state.metrics.request(label);
    match (message.kind(), message.method(), id) {
        (Kind::Request, Some("tools/call"), Some(id)) => match message.tool_call() {
            Ok(Some(call)) => Inbound::ToolCall {
                id,
                name: call.name.into_owned(),
                arguments: call.arguments,
            },
            Ok(None) => Inbound::Other { id: Some(id) },
            Err(error) => Inbound::BadToolCall { id, error },
        },
        (Kind::Request, Some("tools/list"), Some(id)) => Inbound::ToolsList { id },
        (_, _, id) => Inbound::Other { id },
    }
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

/// A JSON-RPC error for `id` saying the upstream gave no answer (HTTP 200: a request
/// failed, the session did not).
fn upstream_error(id: Option<&RawValue>, message: &str) -> Response {
    json_response(
        StatusCode::OK,
        error_response(id, UPSTREAM_UNAVAILABLE, message, None),
    )
}

/// Relays a `tools/list` answer without the tools this caller may not see.
async fn filter_list(
    state: &AppState,
    caller: &Caller,
    id: Box<RawValue>,
    upstream: reqwest::Response,
) -> Response {
    let (status, headers) = response_head(state, caller, &upstream);
    if !status.is_success() {
        return relay::passthrough(state, caller, upstream);
    }
    if is_event_stream(upstream.headers()) {
        let hook = Hook::ToolsList {
            id,
            caller: caller.clone(),
        };
        let body = Body::from_stream(relay_events(upstream.bytes_stream(), Some(hook)));
        return (status, headers, body).into_response();
    }
    let filtered = match upstream.bytes().await {
        Ok(bytes) => filter_tools_list(&bytes, |name| tool_visible(caller, name))
            .map_err(|error| error.to_string()),
        Err(error) => Err(error.to_string()),
    };
    match filtered {
        Ok(body) => (status, headers, body).into_response(),
        Err(error) => upstream_error(
            Some(&id),
            &format!("unusable tools/list answer from the upstream: {error}"),
        ),
    }
}
