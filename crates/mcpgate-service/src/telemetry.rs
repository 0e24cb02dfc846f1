//! Structured logs with `tracing`: human-readable text or one JSON object a line.

use std::str::FromStr;

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

use crate::otlp::{Otlp, TelemetryGuard, CALL_SPAN_TARGET};

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default, for terminals).
    #[default]
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!(
                "unknown log format `{other}`; expected `text` or `json`"
            )),
        }
    }
}

/// Installs the global subscriber. `filter` uses `RUST_LOG` syntax
/// (e.g. `info,mcpgate_proxy=debug`). Safe to call more than once (later calls
/// are ignored), which tests rely on.
pub fn init_telemetry(format: LogFormat, filter: &str) {
    let _ = init_telemetry_exporting(format, filter, None);
}

/// [`init_telemetry`], exporting the call spans over OTLP when `otlp` is set; the guard
/// keeps the exporter running. Without `otlp` no OpenTelemetry layer exists: the call
/// spans' callsite is disabled by the log filter and costs nothing.
pub fn init_telemetry_exporting(
    format: LogFormat,
    filter: &str,
    otlp: Option<&Otlp>,
) -> Result<TelemetryGuard, String> {
    // Call spans are for the exporter, never for the log lines.
    let logs = |filter: &str| EnvFilter::try_new(format!("{filter},{CALL_SPAN_TARGET}=off"));
    let filter =
        logs(filter).unwrap_or_else(|_| EnvFilter::new(format!("info,{CALL_SPAN_TARGET}=off")));
    let Some(otlp) = otlp else {
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr);
        let _ = match format {
            LogFormat::Text => builder.try_init(),
            LogFormat::Json => builder.json().flatten_event(true).try_init(),
        };
        return Ok(TelemetryGuard::default());
    };
    let provider = crate::otlp::provider(otlp)?;
    let traces = tracing_opentelemetry::layer()
        .with_tracer(crate::otlp::tracer(&provider))
        .with_filter(Targets::new().with_target(CALL_SPAN_TARGET, Level::INFO));
    let registry = tracing_subscriber::registry().with(traces);
    let installed = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .try_init(),
    };
    if installed.is_err() {
        // Another subscriber came first (tests): this exporter would never see a span.
        let _ = provider.shutdown();
        return Ok(TelemetryGuard::default());
    }
    Ok(TelemetryGuard::exporting(provider))
}
