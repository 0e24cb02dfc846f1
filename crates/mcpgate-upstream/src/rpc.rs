//! Sending one JSON-RPC message to an upstream and reading its answer, as JSON or SSE.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use mcpgate_mcp::sse::SseParser;
use mcpgate_mcp::Kind;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Client, Response, Url};
use serde_json::value::RawValue;

use crate::error::DiscoveryError;
use crate::resolve::{resolve_checked, Lookup, RefusedAddress};
use crate::AddressPolicy;

pub(crate) const ACCEPT_BOTH: &str = "application/json, text/event-stream";

/// One upstream conversation: the HTTP client, the registered headers, the id counter.
pub(crate) struct Rpc {
    pub(crate) client: Client,
    pub(crate) headers: HeaderMap,
    pub(crate) policy: AddressPolicy,
    pub(crate) lookup: Lookup,
    pub(crate) max_body_bytes: usize,
    next_id: AtomicU64,
}

impl Rpc {
    pub(crate) fn new(
        client: Client,
        headers: HeaderMap,
        policy: AddressPolicy,
        lookup: Lookup,
        max_body_bytes: usize,
    ) -> Self {
        Self {
            client,
            headers,
            policy,
            lookup,
            max_body_bytes,
            next_id: AtomicU64::new(1),
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Refuses URLs whose host the address policy forbids: the gateway's own origins,
    /// refused literals and names, and names that resolve to a refused address (the
    /// client checks each connection again, see [`crate::upstream_client`]).
    pub(crate) async fn check_url(&self, url: &Url) -> Result<(), DiscoveryError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid(url, "only http and https are supported"));
        }
        let refused =
            |RefusedAddress { address, reason }| DiscoveryError::Refused { address, reason };
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return Err(invalid(url, "the URL has no host"));
        };
        if let Some(reason) = self.policy.check_host(host, port) {
            return Err(DiscoveryError::Refused {
                address: host.to_owned(),
                reason,
            });
        }
        // IPv6 literals come bracketed.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<std::net::IpAddr>().is_ok() {
            return Ok(());
        }
        match resolve_checked(&self.lookup, &self.policy, bare).await {
            Ok(Ok(addresses)) => {
                for ip in addresses {
                    let peer = std::net::SocketAddr::new(ip, port);
                    if let Some(reason) = self.policy.check_socket(peer, None) {
                        return Err(DiscoveryError::Refused {
                            address: format!("{bare} ({peer})"),
                            reason,
                        });
                    }
                }
                Ok(())
            }
            Ok(Err(refusal)) => Err(refused(refusal)),
            Err(error) => Err(DiscoveryError::Unreachable {
                address: host_port(url),
                cause: format!("cannot resolve {bare}: {error}"),
            }),
        }
    }

    pub(crate) fn send_error(url: &Url, error: reqwest::Error) -> DiscoveryError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(cause) = source {
            if let Some(RefusedAddress { address, reason }) = cause.downcast_ref() {
                return DiscoveryError::Refused {
                    address: address.clone(),
                    reason: *reason,
                };
            }
            source = cause.source();
        }
        let mut cause = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            cause = format!("{cause}: {inner}");
            source = inner.source();
        }
        DiscoveryError::Unreachable {
            address: host_port(url),
            cause,
        }
    }

    /// POSTs one JSON-RPC message with the registered headers.
    pub(crate) async fn post(
        &self,
        url: &Url,
        session: Option<&str>,
        body: String,
    ) -> Result<Response, DiscoveryError> {
        let mut request = self
            .client
            .post(url.clone())
            .headers(self.headers.clone())
            .header(reqwest::header::ACCEPT, ACCEPT_BOTH)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.map_err(|e| Self::send_error(url, e))
    }

    /// POSTs one 2026-07-28 request: the registered headers, then the headers the
    /// server checks against the body (`MCP-Protocol-Version`, `Mcp-Method`), which
    /// replace any registered header of the same name (a duplicate is a `-32020`).
    pub(crate) async fn post_modern(
        &self,
        url: &Url,
        method: &'static str,
        body: String,
    ) -> Result<Response, DiscoveryError> {
        let mut headers = self.headers.clone();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(ACCEPT_BOTH),
        );
        headers.insert(
            CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        headers.insert(
            "mcp-protocol-version",
            reqwest::header::HeaderValue::from_static(mcpgate_mcp::MODERN_VERSION),
        );
        headers.insert(
            "mcp-method",
            reqwest::header::HeaderValue::from_static(method),
        );
        self.client
            .post(url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| Self::send_error(url, e))
    }

    /// Reads the response to request `id` from a JSON or SSE answer; `Ok(result)` or the
    /// JSON-RPC error as [`DiscoveryError::Protocol`].
    pub(crate) async fn read_result(
        &self,
        url: &Url,
        method: &str,
        id: u64,
        mut response: Response,
    ) -> Result<Box<RawValue>, DiscoveryError> {
        check_status(url, &response)?;
        let content_type = content_type(&response);
        if content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/json"))
        {
            let body = self.read_body(url, &mut response).await?;
            return match_response(&body, method, id)?.ok_or_else(|| {
                protocol(method, format!("the answer has no response with id {id}"))
            });
        }
        if content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("text/event-stream"))
        {
            let mut stream = EventStream::new(response, self.max_body_bytes);
            return stream.read_result(url, method, id).await;
        }
        Err(not_mcp(
            url,
            &response,
            "expected application/json or text/event-stream".into(),
        ))
    }

    pub(crate) async fn read_body(
        &self,
        url: &Url,
        response: &mut Response,
    ) -> Result<Bytes, DiscoveryError> {
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Self::send_error(url, e))?
        {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(protocol(
                    "read",
                    format!("the answer is larger than {} bytes", self.max_body_bytes),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }
}

/// An SSE response body read event by event.
pub(crate) struct EventStream {
    response: Response,
    parser: SseParser,
}

impl EventStream {
    pub(crate) fn new(response: Response, max_event_bytes: usize) -> Self {
        Self {
            response,
            parser: SseParser::with_max_event_bytes(max_event_bytes),
        }
    }

    /// The next event with data, as `(event type, data)`; `None` at the end of the stream.
    pub(crate) async fn next(
        &mut self,
        url: &Url,
    ) -> Result<Option<(String, String)>, DiscoveryError> {
        loop {
            while let Some(event) = self.parser.next_event() {
                if let Some(data) = event.data() {
                    let kind = event
                        .event_type()
                        .filter(|t| !t.is_empty())
                        .unwrap_or("message");
                    return Ok(Some((kind.to_owned(), data.to_owned())));
                }
            }
            match self
                .response
                .chunk()
                .await
                .map_err(|e| Rpc::send_error(url, e))?
            {
                Some(chunk) => self
                    .parser
                    .push(&chunk)
                    .map_err(|e| protocol("read", e.to_string()))?,
                None => return Ok(None),
            }
        }
    }

    /// Skips notifications and server requests until the response to `id`.
    pub(crate) async fn read_result(
        &mut self,
        url: &Url,
        method: &str,
        id: u64,
    ) -> Result<Box<RawValue>, DiscoveryError> {
        self.read_reply(url, method, id).await?.into_result(method)
    }

    /// Like [`EventStream::read_result`], with a JSON-RPC error returned as a [`Reply`].
    pub(crate) async fn read_reply(
        &mut self,
        url: &Url,
        method: &str,
        id: u64,
    ) -> Result<Reply, DiscoveryError> {
        while let Some((kind, data)) = self.next(url).await? {
            if kind != "message" {
                continue;
            }
            let reply = reply_to(data.as_bytes(), Some(id))
                .map_err(|e| protocol(method, format!("malformed answer: {e}")))?;
            if let Some(reply) = reply {
                return Ok(reply);
            }
        }
        Err(protocol(
            method,
            "the event stream ended before the response".into(),
        ))
    }
}

/// A JSON-RPC response: its result, or its error.
#[derive(Debug)]
pub(crate) enum Reply {
    Result(Box<RawValue>),
    Error(RpcError),
}

/// A JSON-RPC error object; every field optional, since servers get them wrong.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RpcError {
    pub(crate) code: Option<i64>,
    pub(crate) message: Option<String>,
    pub(crate) data: Option<serde_json::Value>,
}

impl Reply {
    /// The result, or the error as [`DiscoveryError::Protocol`].
    pub(crate) fn into_result(self, method: &str) -> Result<Box<RawValue>, DiscoveryError> {
        match self {
            Reply::Result(result) => Ok(result),
            Reply::Error(error) => Err(error.into_protocol(method)),
        }
    }
}

impl RpcError {
    pub(crate) fn into_protocol(self, method: &str) -> DiscoveryError {
        DiscoveryError::Protocol {
            method: method.to_owned(),
            code: self.code,
            message: self
                .message
                .unwrap_or_else(|| "error without a message".into()),
        }
    }
}

/// `Ok(Some(result))` if `body` is the response to `id`, `Ok(None)` if it is another message.
fn match_response(
    body: &[u8],
    method: &str,
    id: u64,
) -> Result<Option<Box<RawValue>>, DiscoveryError> {
    reply_to(body, Some(id))
        .map_err(|e| protocol(method, format!("malformed answer: {e}")))?
        .map(|reply| reply.into_result(method))
        .transpose()
}

/// The response to `id` in `body`, or with `id` `None` the first error response
/// whatever its id (servers refusing a request before reading it answer `"id": null`).
pub(crate) fn reply_to(
    body: &[u8],
    id: Option<u64>,
) -> Result<Option<Reply>, mcpgate_mcp::ParseError> {
    let incoming = mcpgate_mcp::parse(body)?;
    let expected = id.map(|id| id.to_string());
    for message in incoming.messages() {
        if message.kind() != Kind::Response {
            continue;
        }
        if let Some(expected) = &expected {
            if message.id().map(RawValue::get) != Some(expected.as_str()) {
                continue;
            }
        }
        if let Some(error) = message.error() {
            let error: RpcError = serde_json::from_str(error.get()).unwrap_or_default();
            return Ok(Some(Reply::Error(error)));
        }
        if expected.is_none() {
            continue;
        }
        let result = message
            .result()
            .expect("a response without error has a result");
        return Ok(Some(Reply::Result(result.to_owned())));
    }
    Ok(None)
}

pub(crate) fn check_status(url: &Url, response: &Response) -> Result<(), DiscoveryError> {
    let status = response.status();
    if status == 401 || status == 403 {
        let challenge = (status == 401)
            .then(|| response.headers().get(reqwest::header::WWW_AUTHENTICATE))
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(crate::upstream_oauth::BearerChallenge::parse);
        return Err(DiscoveryError::Unauthorized {
            url: url.to_string(),
            status: status.as_u16(),
            challenge,
        });
    }
    if !status.is_success() {
        return Err(not_mcp(
            url,
            response,
            format!("unexpected HTTP status {status}"),
        ));
    }
    Ok(())
}

pub(crate) fn content_type(response: &Response) -> Option<String> {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
}

pub(crate) fn not_mcp(url: &Url, response: &Response, detail: String) -> DiscoveryError {
    DiscoveryError::NotMcp {
        url: url.to_string(),
        status: response.status().as_u16(),
        content_type: content_type(response),
        detail,
    }
}

pub(crate) fn protocol(method: &str, message: String) -> DiscoveryError {
    DiscoveryError::Protocol {
        method: method.to_owned(),
        code: None,
        message,
    }
}

fn invalid(url: &Url, reason: &str) -> DiscoveryError {
    DiscoveryError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_owned(),
    }
}

pub(crate) fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => url.to_string(),
    }
}
