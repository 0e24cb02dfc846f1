//! Forwarding one request upstream and turning the answer into the client's response:
//! status, content type and body as they arrive, with the session id swapped for the
//! proxy's own.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::Stream;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use http_body_util::{BodyDataStream, BodyExt};
use hyper::body::Incoming;

use mcpgate_mcp::{Era, Mirrors};

use crate::auth::Caller;
use crate::cache::ServerEntry;
use crate::session;
use crate::state::AppState;

pub(crate) const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");

/// Client headers that reach the upstream, besides every `Mcp-Param-*` (2026-07-28:
/// mirrored tool arguments, which the upstream checks against the body). Everything else
/// stays behind: the grant token (`Authorization`), cookies, hop-by-hop headers, `Host`.
const FORWARDED_HEADERS: [HeaderName; 12] = [
    header::ACCEPT,
    header::CONTENT_TYPE,
    header::USER_AGENT,
    PROTOCOL_VERSION,
    METHOD,
    NAME,
    HeaderName::from_static("last-event-id"),
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("traceparent"),
    HeaderName::from_static("tracestate"),
    HeaderName::from_static("baggage"),
    header::ACCEPT_LANGUAGE,
];

/// The prefix of the headers that mirror tool arguments (`x-mcp-header`).
const PARAM_HEADER_PREFIX: &str = "mcp-param-";

/// Upstream response headers that reach the client (besides the rewritten session id).
const RELAYED_HEADERS: [HeaderName; 3] =
    [header::CONTENT_TYPE, header::CACHE_CONTROL, header::ALLOW];

const PROTOCOL_VERSION: HeaderName = HeaderName::from_static("mcp-protocol-version");
const METHOD: HeaderName = HeaderName::from_static("mcp-method");
const NAME: HeaderName = HeaderName::from_static("mcp-name");

/// The mirrored headers of a request, for [`mcpgate_mcp::check_mirrors`].
pub(crate) fn mirrors(headers: &HeaderMap) -> Mirrors<'_> {
    let one = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let mirrored = [
        (PROTOCOL_VERSION, "MCP-Protocol-Version"),
        (METHOD, "Mcp-Method"),
        (NAME, "Mcp-Name"),
    ];
    let repeated = mirrored
        .iter()
        .find(|(name, _)| headers.get_all(name).iter().nth(1).is_some())
        .map(|(_, spelled)| *spelled);
    Mirrors {
        protocol_version: one(&PROTOCOL_VERSION),
        method: one(&METHOD),
        name: one(&NAME),
        repeated,
    }
}

/// The era of a request, from its `MCP-Protocol-Version` header.
pub(crate) fn era(headers: &HeaderMap) -> Era {
    Era::of(headers.get(&PROTOCOL_VERSION).and_then(|v| v.to_str().ok()))
}

/// The upstream gave no response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpstreamFailure {
    #[error("upstream {host} did not answer within {after:?}")]
    Timeout { host: String, after: Duration },
    #[error("upstream {host} could not be reached: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("{0}")]
    Refused(String),
    #[error("the server's stored upstream credentials cannot be opened; re-enter them")]
    Credentials,
    /// An OAuth server whose connection needs a person (connect or reconnect).
    #[error("{0}")]
    NotConnected(std::sync::Arc<str>),
    /// An OAuth server whose token cannot be renewed while its authorization server is
    /// unreachable (the message says when the next attempt is).
    #[error("{0}")]
    AuthorizationUnavailable(std::sync::Arc<str>),
    /// A per-grant OAuth server the call's grant has no usable connection to: its
    /// person connects at `url` (MCP 2025-11-25 URL-mode elicitation).
    #[error("{message}")]
    ConnectRequired { message: String, url: String },
}

/// MCP 2025-11-25 `URLElicitationRequiredError`: the request needs the person to open
/// a URL first (here: to connect the grant's own upstream account).
pub(crate) const URL_ELICITATION_REQUIRED: i64 = -32042;

impl UpstreamFailure {
    /// The JSON-RPC error answering request `id`: -32042 with the URL to open when a
    /// person must connect, else -32010 ([`crate::refusal::UPSTREAM_UNAVAILABLE`]).
    pub(crate) fn answer(&self, id: Option<&serde_json::value::RawValue>) -> Vec<u8> {
        let message = self.to_string();
        match self {
            UpstreamFailure::ConnectRequired { url, .. } => {
                let data = serde_json::json!({"elicitations": [{
                    "mode": "url",
                    "elicitationId": uuid::Uuid::now_v7().to_string(),
                    "url": url,
                    "message": message,
                }]});
                let code = URL_ELICITATION_REQUIRED;
                mcpgate_mcp::error_response(id, code, &message, Some(&data))
            }
            _ => {
                let code = crate::refusal::UPSTREAM_UNAVAILABLE;
                mcpgate_mcp::error_response(id, code, &message, None)
            }
        }
    }
}

/// A response from the upstream and how long its headers took.
#[derive(Debug)]
pub(crate) struct Upstream {
    pub(crate) response: UpstreamResponse,
    pub(crate) latency: Duration,
}

/// An upstream's response: its head, and its body as it arrives.
#[derive(Debug)]
pub(crate) struct UpstreamResponse(http::Response<Incoming>);

impl UpstreamResponse {
    pub(crate) fn status(&self) -> StatusCode {
        self.0.status()
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        self.0.headers()
    }

    /// The body's length, when the upstream declared it.
    pub(crate) fn content_length(&self) -> Option<u64> {
        http_body::Body::size_hint(self.0.body()).exact()
    }

    /// The next piece of the body; `None` at its end (trailers are skipped).
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, hyper::Error> {
        while let Some(frame) = self.0.body_mut().frame().await {
            if let Ok(data) = frame?.into_data() {
                return Ok(Some(data));
            }
        }
        Ok(None)
    }

    /// The body as a stream of pieces.
    pub(crate) fn bytes_stream(
        self,
    ) -> impl Stream<Item = Result<Bytes, hyper::Error>> + Send + Unpin + 'static {
        BodyDataStream::new(self.0.into_body())
    }
}

/// Sends `body` to the caller's server with the server's own headers.
pub(crate) async fn send(
    state: &AppState,
    caller: &Caller,
    method: Method,
    client_headers: &HeaderMap,
    upstream_session: Option<&str>,
    body: Option<Bytes>,
) -> Result<Upstream, UpstreamFailure> {
    let uri = caller.server.uri.clone();
    send_to(
        state,
        caller,
        uri,
        method,
        client_headers,
        upstream_session,
        body,
    )
    .await
}

/// [`send`] to another URL of the caller's server (a legacy server's message endpoint,
/// which its `endpoint` event named; same host, so the address guard still applies).
///
/// An OAuth server that answers 401 (its token revoked or rotated before it was due)
/// gets one refresh and the message once more with the new token: the upstream refused
/// it before doing anything, so sending it again is safe. Never more than once.
pub(crate) async fn send_to(
    state: &AppState,
    caller: &Caller,
    uri: Uri,
    method: Method,
    client_headers: &HeaderMap,
    upstream_session: Option<&str>,
    body: Option<Bytes>,
) -> Result<Upstream, UpstreamFailure> {
    let message = Message {
        uri: &uri,
        method: &method,
        client_headers,
        upstream_session,
    };
    let first = send_once(state, caller, &caller.server, &message, body.clone()).await?;
    if first.response.status() == StatusCode::UNAUTHORIZED
        && caller.server.oauth_scope == crate::upstream_oauth::Scope::Grant
    {
        let per_grant = crate::upstream_oauth::per_grant::after_unauthorized(state, caller);
        return match per_grant.await? {
            Some(grant) => {
                let renewed = Caller {
                    grant,
                    ..caller.clone()
                };
                send_once(state, &renewed, &caller.server, &message, body).await
            }
            None => Ok(first),
        };
    }
    if first.response.status() != StatusCode::UNAUTHORIZED || caller.server.oauth.is_none() {
        return Ok(first);
    }
    match crate::upstream_oauth::after_unauthorized(state, &caller.server).await? {
        Some(renewed) => send_once(state, caller, &renewed, &message, body).await,
        None => Ok(first),
    }
}

/// Where and how one message goes, whichever token it is sent with.
struct Message<'a> {
    uri: &'a Uri,
    method: &'a Method,
    client_headers: &'a HeaderMap,
    upstream_session: Option<&'a str>,
}

async fn send_once(
    state: &AppState,
    caller: &Caller,
    server: &ServerEntry,
    message: &Message<'_>,
    body: Option<Bytes>,
) -> Result<Upstream, UpstreamFailure> {
    let (client_headers, upstream_session) = (message.client_headers, message.upstream_session);
    if let Some(reason) = &server.refused {
        return Err(UpstreamFailure::Refused(reason.clone()));
    }
    let credentials = server
        .headers
        .as_ref()
        .map_err(|problem| problem.failure(server.id))?;
    if let Some(oauth) = &server.oauth {
        oauth.usable(chrono::Utc::now())?;
    }
    let grant_authorization =
        crate::upstream_oauth::per_grant::authorization(state, caller, server)?;
    let mut headers = HeaderMap::with_capacity(FORWARDED_HEADERS.len() + credentials.len() + 2);
    for name in FORWARDED_HEADERS {
        if let Some(value) = client_headers.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    for (name, value) in client_headers {
        if name.as_str().starts_with(PARAM_HEADER_PREFIX) {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Some(id) = upstream_session.and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert(SESSION_HEADER, id);
    }
    for (name, value) in credentials {
        headers.insert(name.clone(), value.clone());
    }
    if let Some(value) = grant_authorization {
        headers.insert(header::AUTHORIZATION, value.clone());
    }
    let after = state.settings.upstream_response_timeout;
    let started = Instant::now();
    let sent = state
        .relay
        .send(message.method.clone(), message.uri.clone(), headers, body);
    let result = tokio::time::timeout(after, sent).await;
    let latency = started.elapsed();
    let host = || server.url.host_str().unwrap_or_default().to_owned();
    match result {
        Ok(Ok(response)) => {
            state.metrics.upstream_latency(latency);
            Ok(Upstream {
                response: UpstreamResponse(response),
                latency,
            })
        }
        Ok(Err(error)) => {
            state.metrics.upstream_error(caller.tenant);
            if error.is_timeout() {
                let after = state.settings.upstream_connect_timeout;
                return Err(UpstreamFailure::Timeout {
                    host: host(),
                    after,
                });
            }
            Err(UpstreamFailure::Unreachable {
                host: host(),
                reason: mcpgate_upstream::error_chain(&error),
            })
        }
        Err(_) => {
            state.metrics.upstream_error(caller.tenant);
            Err(UpstreamFailure::Timeout {
                host: host(),
                after,
            })
        }
    }
}

/// An upstream body the proxy reads whole could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadFailure {
    #[error(
        "the upstream's answer is larger than {0} bytes (MCPGATE_PROXY_MAX_UPSTREAM_MESSAGE_BYTES)"
    )]
    TooLarge(usize),
    #[error("the upstream's answer broke off: {0}")]
    Broken(String),
}

/// Reads a body the proxy must see whole (a JSON answer to filter or check), never
/// more than `max` bytes of it: an upstream that answers without end is cut off.
pub(crate) async fn read_capped(
    mut response: UpstreamResponse,
    max: usize,
) -> Result<Bytes, ReadFailure> {
    if response
        .content_length()
        .is_some_and(|length| length > max as u64)
    {
        return Err(ReadFailure::TooLarge(max));
    }
    let mut body = bytes::BytesMut::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(ReadFailure::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body.freeze()),
            Err(error) => return Err(ReadFailure::Broken(mcpgate_upstream::error_chain(&error))),
        }
    }
}

/// The status and headers of the client's response, from the upstream's.
pub(crate) fn response_head(
    state: &AppState,
    caller: &Caller,
    upstream: &UpstreamResponse,
) -> (StatusCode, HeaderMap) {
    let mut headers = HeaderMap::new();
    for name in RELAYED_HEADERS {
        if let Some(value) = upstream.headers().get(&name) {
            headers.insert(name, value.clone());
        }
    }
    if let Some(id) = upstream
        .headers()
        .get(&SESSION_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        let sealed = session::seal(&state.secret_key, id, caller.grant_id, caller.server.id);
        if let Ok(value) = HeaderValue::from_str(&sealed) {
            headers.insert(SESSION_HEADER, value);
        }
    }
    if is_event_stream(upstream.headers()) {
        // Reverse proxies in front of us must not buffer the stream either.
        headers.insert(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        );
    }
    (upstream.status(), headers)
}

/// Relays the upstream's body untouched, chunk by chunk.
pub(crate) fn passthrough(
    state: &AppState,
    caller: &Caller,
    upstream: UpstreamResponse,
) -> Response {
    let (status, headers) = response_head(state, caller, &upstream);
    (status, headers, Body::from_stream(upstream.bytes_stream())).into_response()
}

pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("text/event-stream"))
}

/// A JSON body the proxy wrote itself, HTTP 200.
pub(crate) fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}
