//! What every mcpgate HTTP service shares: telemetry, request ids and request
//! spans, health and readiness routes, and the shutdown signal.

mod health;
mod layers;
mod otlp;
mod shutdown;
mod telemetry;
pub mod upstream_oauth;

pub use health::{health_router, Readiness};
pub use layers::{with_common_layers, REQUEST_ID_HEADER};
pub use otlp::{continue_trace, outgoing, Otlp, TelemetryGuard, TraceContext, CALL_SPAN_TARGET};
pub use shutdown::shutdown_signal;
pub use telemetry::{init_telemetry, init_telemetry_exporting, LogFormat};
