//! Traces over OTLP/HTTP with protobuf, off unless an endpoint is configured.
//!
//! Only spans with the target [`CALL_SPAN_TARGET`] are exported (one per governed call,
//! opened by the proxy), so turning traces on does not ship every log span. With no
//! endpoint no OpenTelemetry layer is installed at all: the call span's callsite is
//! disabled and costs the proxy one branch per call.

use std::time::Duration;

use http::HeaderValue;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The `tracing` target of the spans exported over OTLP.
pub const CALL_SPAN_TARGET: &str = "mcpgate_otel";

/// Where and as what traces are exported (`OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_SERVICE_NAME`).
#[derive(Debug, Clone)]
pub struct Otlp {
    /// The collector's base URL; traces go to `{endpoint}/v1/traces`, as the OTLP
    /// exporter specification says for the signal-independent endpoint.
    pub endpoint: String,
    /// The `service.name` resource attribute.
    pub service_name: String,
    /// How long finished spans wait to be sent in a batch.
    pub batch_delay: Duration,
}

impl Otlp {
    /// The settings for `endpoint`, with the SDK's default batching (5 s).
    pub fn new(endpoint: impl Into<String>, service_name: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            service_name: service_name.into(),
            batch_delay: Duration::from_secs(5),
        }
    }

    /// The URL spans are posted to.
    pub fn traces_url(&self) -> String {
        format!("{}/v1/traces", self.endpoint.trim_end_matches('/'))
    }
}

/// Keeps the exporter running; dropping it sends the spans still waiting.
#[derive(Debug, Default)]
#[must_use = "dropping the guard stops the span exporter"]
pub struct TelemetryGuard(Option<SdkTracerProvider>);

impl TelemetryGuard {
    pub(crate) fn exporting(provider: SdkTracerProvider) -> Self {
        Self(Some(provider))
    }

    /// Whether spans are being exported (false when another subscriber came first).
    pub fn is_exporting(&self) -> bool {
        self.0.is_some()
    }

    /// Sends every finished span now (tests, shutdown).
    pub fn flush(&self) {
        if let Some(provider) = &self.0 {
            let _ = provider.force_flush();
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            let _ = provider.shutdown();
        }
    }
}

/// The tracer provider exporting to `otlp`: batches on the SDK's own thread, posted with
/// reqwest's blocking client (so export never runs on, or waits for, the proxy's runtime).
pub(crate) fn provider(otlp: &Otlp) -> Result<SdkTracerProvider, String> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(otlp.traces_url())
        .with_timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| format!("the OTLP span exporter for {}: {error}", otlp.endpoint))?;
    let batching = BatchConfigBuilder::default()
        .with_scheduled_delay(otlp.batch_delay)
        .build();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batching)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(
            Resource::builder()
                .with_service_name(otlp.service_name.clone())
                .build(),
        )
        .build())
}

/// The tracer the layer uses, named for the instrumenting library.
pub(crate) fn tracer(provider: &SdkTracerProvider) -> opentelemetry_sdk::trace::Tracer {
    provider.tracer("mcpgate")
}

/// W3C trace context, as it arrived (header or a request's `_meta`) or as it leaves.
#[derive(Debug, Default, Clone)]
pub struct TraceContext {
    /// `traceparent`: `00-<trace id>-<parent span id>-<flags>`.
    pub traceparent: Option<String>,
    /// `tracestate`, vendors' entries carried along.
    pub tracestate: Option<String>,
}

impl Extractor for TraceContext {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent.as_deref(),
            "tracestate" => self.tracestate.as_deref(),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

impl Injector for TraceContext {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "traceparent" => self.traceparent = Some(value),
            "tracestate" => self.tracestate = Some(value),
            _ => {}
        }
    }
}

/// Makes `span` a child of the remote span `incoming` names (an invalid `traceparent`
/// is ignored: the span starts a trace of its own). Call before the span is entered.
pub fn continue_trace(span: &tracing::Span, incoming: &TraceContext) {
    let parent = TraceContextPropagator::new().extract(incoming);
    let _ = span.set_parent(parent);
}

/// The trace context that names `span` as the parent, for a request sent on its behalf;
/// `None` when the span is not exported.
pub fn outgoing(span: &tracing::Span) -> Option<(HeaderValue, Option<HeaderValue>)> {
    use opentelemetry::trace::TraceContextExt as _;
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = TraceContext::default();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    let traceparent = HeaderValue::try_from(carrier.traceparent?).ok()?;
    let tracestate = carrier
        .tracestate
        .filter(|state| !state.is_empty())
        .and_then(|state| HeaderValue::try_from(state).ok());
    Some((traceparent, tracestate))
}
