//! The legacy HTTP+SSE transport (2024-11-05) for servers stored with transport `sse`:
//! `GET /mcp/{server}/sse` opens the upstream's stream and relays it, with its
//! `endpoint` event rewritten to `/mcp/{server}/message?sessionId=<sealed>`; POSTs there
//! are enforced and forwarded to the endpoint the upstream named. Every answer travels on
//! the GET stream, so the proxy's own answers (refusals) are injected into it as
//! `message` events: the stream lives in this process, hence sticky sessions for this
//! transport (a POST reaching another replica gets 404 "session not found").

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use futures_util::StreamExt;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use mcpgate_mcp::sse::{SseEvent, SseParser};
use mcpgate_mcp::{Incoming, Kind, RequestId};
use serde::Deserialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::call::{Call, Concluded, Holding};
use super::post::{decided_notification, read_body};
use crate::approval::message_frame;
use crate::auth::{authenticate_legacy, Caller, UrlToken};
use crate::drift::Drift;
use crate::enforce::CallSettings;
use crate::error::ProxyError;
use crate::relay;
use crate::session;
use crate::slots::{Slot, SlotKind};
use crate::state::AppState;
use crate::stream::{filter_list_event, Watch};
use crate::target::Target;

const HELD_NOT_SUPPORTED: &str = "this call needs a person's approval, which the legacy \
    HTTP+SSE transport cannot wait for; connect over Streamable HTTP (/mcp/{server}/)";

/// The legacy streams open in this process.
#[derive(Debug, Default)]
pub(crate) struct LegacySessions(Mutex<HashMap<Uuid, Arc<LegacySession>>>);

impl LegacySessions {
    fn get(&self, key: Uuid) -> Option<Arc<LegacySession>> {
        self.lock().get(&key).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<LegacySession>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One client's stream.
#[derive(Debug)]
struct LegacySession {
    frames: mpsc::Sender<Bytes>,
    /// Where the upstream said to POST (its `endpoint` event).
    endpoint: OnceLock<http::Uri>,
    /// Ids (by value) of `tools/list` requests whose answers are filtered on the stream.
    lists: Mutex<HashSet<RequestId>>,
}

impl LegacySession {
    /// Puts the proxy's own answer on the client's stream.
    async fn inject(&self, json: &[u8]) {
        let _ = self.frames.send(message_frame(json)).await;
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
}

/// `GET /mcp/{server}/sse`.
pub(super) async fn open_stream(
    State(state): State<AppState>,
    Path(server_id): Path<String>,
    url_token: Option<Extension<UrlToken>>,
    headers: HeaderMap,
) -> Result<Response, ProxyError> {
    let caller = authenticate_legacy(&state, &server_id, &headers, url_token.as_deref()).await?;
    state.audit.grant_used(caller.grant_id);
    let slot =
        state
            .slots
            .take(caller.grant_id, SlotKind::Stream)
            .ok_or(ProxyError::TooManyStreams(
                state.slots.max(SlotKind::Stream),
            ))?;
    let upstream = relay::send(&state, &caller, Method::GET, &headers, None, None)
        .await
        .map_err(|failure| ProxyError::UpstreamUnavailable(failure.to_string()))?;
    if !upstream.response.status().is_success() {
        return Ok(relay::passthrough(&state, &caller, upstream.response));
    }
    let key = Uuid::new_v4();
    let (frames, receiver) = mpsc::channel(64);
    let session = Arc::new(LegacySession {
        frames,
        endpoint: OnceLock::new(),
        lists: Mutex::default(),
    });
    state.legacy.lock().insert(key, Arc::clone(&session));
    // A client that cannot set headers keeps its token in the path of the endpoint too.
    let mount = match url_token.as_deref() {
        Some(token) => format!("/mcp/{}/t/{}", caller.server.id, token.0),
        None => format!("/mcp/{}", caller.server.id),
    };
    let sealed = session::seal(
        &state.secret_key,
        &key.to_string(),
        caller.grant_id,
        caller.server.id,
    );
    let endpoint = format!("{mount}/message?sessionId={sealed}");
    tokio::spawn(pump(
        state.clone(),
        caller,
        key,
        session,
        endpoint,
        upstream.response,
        slot,
    ));
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver
            .recv()
            .await
            .map(|frame| (Ok::<_, std::convert::Infallible>(frame), receiver))
    })
    .take_until(state.shutdown.clone().cancelled_owned());
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Relays the upstream stream into the client's until either ends, rewriting the
/// `endpoint` event and filtering `tools/list` answers.
async fn pump(
    state: AppState,
    caller: Caller,
    key: Uuid,
    session: Arc<LegacySession>,
    endpoint: String,
    response: relay::UpstreamResponse,
    _slot: Slot,
) {
    let mut parser = SseParser::with_max_event_bytes(state.settings.max_upstream_message_bytes);
    let mut upstream = response.bytes_stream();
    'relay: loop {
        let chunk = tokio::select! {
            () = session.frames.closed() => break,
            chunk = upstream.next() => chunk,
        };
        let Some(Ok(chunk)) = chunk else { break };
        if parser.push(&chunk).is_err() {
            tracing::warn!(server = %caller.server.id, "legacy stream event too large; closing");
            break;
        }
        while let Some(event) = parser.next_event() {
            let Some(frame) = translate(&state.drift, &caller, &session, &endpoint, &event) else {
                break 'relay;
            };
            if !frame.is_empty() && session.frames.send(frame).await.is_err() {
                break 'relay;
            }
        }
    }
    state.legacy.lock().remove(&key);
}

/// The frame the client gets for an upstream event; `None` ends the stream.
fn translate(
    drift: &Arc<Drift>,
    caller: &Caller,
    session: &LegacySession,
    endpoint: &str,
    event: &SseEvent,
) -> Option<Bytes> {
    if event.event_type() == Some("endpoint") {
        let data = event.data().unwrap_or_default();
        let target = caller.server.url.join(data).ok()?;
        // The endpoint must stay on the server's own origin: it is where calls go.
        if target.origin() != caller.server.url.origin() {
            tracing::warn!(server = %caller.server.id, "legacy endpoint on another origin; closing");
            return None;
        }
        let Ok(target) = http::Uri::try_from(target.as_str()) else {
            tracing::warn!(server = %caller.server.id, "legacy endpoint is not a valid URI; closing");
            return None;
        };
        let _ = session.endpoint.set(target);
        return Some(Bytes::from(format!(
            "event: endpoint\ndata: {endpoint}\n\n"
        )));
    }
    if !event.is_message() {
        return Some(event.raw().clone());
    }
    Watch::new(drift, caller).look(event.data().unwrap_or_default());
    let data = event.data().unwrap_or_default().as_bytes();
    // Every answer travels on this one stream: a response to a registered `tools/list`
    // is filtered, and so is any response shaped like a tool list (under an id the proxy
    // never saw, or unreadable), since a client takes it by its id.
    let answered = match mcpgate_mcp::parse(data) {
        Ok(Incoming::Single(message)) if message.kind() == Kind::Response => message.request_id(),
        Ok(Incoming::Single(_)) => return Some(event.raw().clone()),
        _ => None,
    };
    let registered = answered.as_ref().is_some_and(|id| {
        session
            .lists
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    });
    if !registered && !mcpgate_mcp::is_tools_list_result(data) && answered.is_some() {
        return Some(event.raw().clone());
    }
    Some(filter_list_event(
        event,
        caller,
        drift,
        mcpgate_mcp::ListKind::Tools,
    ))
}

/// `POST /mcp/{server}/message?sessionId=…`.
pub(super) async fn post_message(
    State(state): State<AppState>,
    Path(server_id): Path<String>,
    Query(query): Query<SessionQuery>,
    url_token: Option<Extension<UrlToken>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ProxyError> {
    let started = Instant::now();
    let caller = authenticate_legacy(&state, &server_id, &headers, url_token.as_deref()).await?;
    let sealed = query.session_id.ok_or(ProxyError::SessionNotFound)?;
    let key = session::open(
        &state.secret_key,
        &sealed,
        caller.grant_id,
        caller.server.id,
    )
    .and_then(|key| key.parse::<Uuid>().ok())
    .ok_or(ProxyError::SessionNotFound)?;
    let session = state.legacy.get(key).ok_or(ProxyError::SessionNotFound)?;
    let endpoint = session
        .endpoint
        .get()
        .cloned()
        .ok_or(ProxyError::SessionNotFound)?;
    let body = read_body(&headers, body, &state.settings).await?;
    let incoming = mcpgate_mcp::parse(&body).map_err(ProxyError::Parse)?;
    let message = match &incoming {
        Incoming::Batch(messages) => {
            state.metrics.request("batch");
            // Answers travel on the stream, one by one: a batch with anything the policy
            // decides (or a list to filter) is not taken apart here.
            let guarded = messages
                .iter()
                .any(|m| m.method() == Some("tools/list") || !matches!(Target::of(m), Ok(None)));
            if guarded {
                return Err(ProxyError::BatchNotSupported);
            }
            None
        }
        Incoming::Single(message) => Some(message),
    };
    let method = message.and_then(|m| m.method());
    if let Some(message) = message {
        state.metrics.request(match message.kind() {
            Kind::Request => method.unwrap_or("other"),
            Kind::Notification => "notification",
            Kind::Response => "response",
        });
    }
    let call = match message {
        Some(m) if m.method() == Some("tools/list") => {
            if let Some(id) = m.request_id() {
                session
                    .lists
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(id);
            }
            None
        }
        Some(m) => {
            let target = Target::of(m);
            if m.kind() == Kind::Notification && decided_notification(m, &target) {
                return Err(ProxyError::CallWithoutId);
            }
            match (m.id(), target) {
                (Some(id), Ok(Some(target))) if m.kind() == Kind::Request => {
                    Some((id.to_owned(), target))
                }
                (Some(id), Err(error)) if m.kind() == Kind::Request => {
                    let answer = mcpgate_mcp::error_response(
                        Some(id),
                        error.code(),
                        &error.to_string(),
                        None,
                    );
                    session.inject(&answer).await;
                    return Ok(StatusCode::ACCEPTED.into_response());
                }
                _ => None,
            }
        }
        None => None,
    };
    let Some((id, target)) = call else {
        state.metrics.overhead(started.elapsed());
        let sent = relay::send_to(
            &state,
            &caller,
            endpoint,
            Method::POST,
            &headers,
            None,
            Some(body),
        )
        .await
        .map_err(|failure| ProxyError::UpstreamUnavailable(failure.to_string()))?;
        return Ok(relay::passthrough(&state, &caller, sent.response));
    };
    let call = Call {
        span: crate::trace::call_span(&caller, &target, &headers, Some(&body)),
        settings: CallSettings::of(&caller),
        state: state.clone(),
        caller,
        headers,
        session: None,
        upstream_url: Some(endpoint),
        id,
        target,
        started,
    };
    Ok(legacy_call(call, &session, body).await)
}

/// Enforces a legacy call: the proxy's own answers (refusals) go onto the client's
/// stream and the POST gets 202, as the upstream would answer; allowed calls go to the
/// upstream's endpoint. A call cannot be held on this transport.
async fn legacy_call(call: Call, session: &LegacySession, body: Bytes) -> Response {
    let enforcement = call.decide().await;
    match call
        .conclude(enforcement, body, Holding::Impossible(HELD_NOT_SUPPORTED))
        .await
    {
        Concluded::Answer(answer) => {
            session.inject(&answer).await;
            StatusCode::ACCEPTED.into_response()
        }
        Concluded::Upstream {
            call,
            response,
            mut release,
        } => {
            // The answer travels on the stream and is not matched here: an HTTP error is
            // the only failure seen, and the only one that releases.
            if response.status().is_success() {
                release.keep();
            } else {
                release.release();
            }
            relay::passthrough(&call.state, &call.caller, response)
        }
        Concluded::Held(response) => response,
    }
}
