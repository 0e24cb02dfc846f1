//! Typed request helpers over a running app.

use mcpgate_demo::{DemoHandle, DemoSettings};
pub use mcpgate_testkit::rest::{send, sign_up, Tenant};
use serde_json::{json, Value};

/// Registers `url` without upstream headers and returns the created server.
pub async fn register(tenant: &Tenant<'_>, name: &str, url: &str) -> Value {
    tenant.register(name, url, json!({})).await
}

/// The demo upstream serving the k8s-multicluster-mcp catalogue.
pub async fn demo() -> DemoHandle {
    mcpgate_demo::spawn(DemoSettings::default()).await
}

/// PolicyLayer's seed rule for `k8s_run_pod`.
pub fn seed_policy() -> Value {
    json!({"version": "1", "default": "deny",
        "tools": {"k8s_run_pod": {"limits": [
            {"counter": "k8s_run_pod_rate", "window": "minute", "max": 10, "scope": "grant"}]}}})
}
