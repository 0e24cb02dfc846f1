//! A governed call's span, exported over OTLP when traces are on
//! ([`mcpgate_service::CALL_SPAN_TARGET`]): what was called, for which tenant and server,
//! the decision and its rule, the upstream's status and latency. Never the arguments.
//!
//! It continues the caller's W3C trace (`traceparent` in the request's `_meta`, else
//! the header) and names itself the parent of the request sent upstream. When traces
//! are off the span is disabled: nothing here runs beyond that check, and the client's
//! own `traceparent` header still reaches the upstream untouched (see `relay`).

use std::time::Duration;

use http::{HeaderMap, HeaderName, StatusCode};
use mcpgate_service::TraceContext;
use serde::Deserialize;
use tracing::field::Empty;
use tracing::Span;

use crate::auth::Caller;
use crate::enforce::AuditNote;
use crate::mcp::call::Call;
use crate::target::Target;

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The span of one call; `body` is the call's own message when it came alone (its
/// `_meta` may carry the trace context).
pub(crate) fn call_span(
    caller: &Caller,
    target: &Target,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> Span {
    let span = tracing::info_span!(
        target: mcpgate_service::CALL_SPAN_TARGET,
        "mcp.call",
        otel.name = %SpanName(target),
        otel.kind = "server",
        mcp.method.name = target.method(),
        gen_ai.tool.name = target.name(),
        mcpgate.tenant_id = %caller.tenant,
        mcpgate.server_id = %caller.server.id,
        mcpgate.decision = Empty,
        mcpgate.rule = Empty,
        mcpgate.upstream.status = Empty,
        mcpgate.upstream.latency_ms = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    let incoming = body
        .and_then(from_meta)
        .filter(|context| context.traceparent.is_some())
        .unwrap_or_else(|| from_headers(headers));
    if incoming.traceparent.is_some() {
        mcpgate_service::continue_trace(&span, &incoming);
    }
    span
}

/// `tools/call get_weather`, as OpenTelemetry's MCP conventions name a call's span.
struct SpanName<'a>(&'a Target);

impl std::fmt::Display for SpanName<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.name() {
            Some(name) => write!(f, "{} {name}", self.0.method()),
            None => f.write_str(self.0.method()),
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    params: Option<Params<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<Meta<'a>>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow, default)]
    traceparent: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    tracestate: Option<std::borrow::Cow<'a, str>>,
}

/// The trace context in the request's `params._meta`.
fn from_meta(body: &[u8]) -> Option<TraceContext> {
    let envelope: Envelope<'_> = serde_json::from_slice(body).ok()?;
    let meta = envelope.params?.meta?;
    Some(TraceContext {
        traceparent: meta.traceparent.map(Into::into),
        tracestate: meta.tracestate.map(Into::into),
    })
}

fn from_headers(headers: &HeaderMap) -> TraceContext {
    let one = |name: &HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    TraceContext {
        traceparent: one(&TRACEPARENT),
        tracestate: one(&TRACESTATE),
    }
}

impl Call {
    /// The decision (and the upstream's answer, once there is one) on the call's span.
    pub(crate) fn trace_decision(
        &self,
        note: &AuditNote,
        upstream: Option<(StatusCode, Duration)>,
    ) {
        let span = &self.span;
        if span.is_disabled() {
            return;
        }
        span.record("mcpgate.decision", note.decision);
        if let Some(rule) = note.rule.as_deref() {
            span.record("mcpgate.rule", rule);
        }
        if let Some((status, latency)) = upstream {
            span.record("mcpgate.upstream.status", i64::from(status.as_u16()));
            span.record("mcpgate.upstream.latency_ms", latency.as_secs_f64() * 1e3);
        }
    }

    /// The client's headers for the request sent upstream: with this call's span as the
    /// `traceparent` when traces are on, as they came otherwise (no copy).
    pub(crate) fn upstream_headers(&self) -> std::borrow::Cow<'_, HeaderMap> {
        let outgoing = if self.span.is_disabled() {
            None
        } else {
            mcpgate_service::outgoing(&self.span)
        };
        let Some((traceparent, tracestate)) = outgoing else {
            return std::borrow::Cow::Borrowed(&self.headers);
        };
        let mut headers = self.headers.clone();
        headers.insert(TRACEPARENT, traceparent);
        match tracestate {
            Some(state) => headers.insert(TRACESTATE, state),
            None => headers.remove(TRACESTATE),
        };
        std::borrow::Cow::Owned(headers)
    }
}
