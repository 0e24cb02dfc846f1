//! `GET /metrics` in the OpenMetrics text format, through `prometheus-client`: the
//! proxy's counters and histograms under their conventional names and units, plus
//! per-tenant counts of decisions, limits hit and upstream errors.
//!
//! The fixed label sets (methods, outcomes) are resolved once at start: counting one is
//! an atomic add. A tenant's counters are looked up in their family per call (a read
//! lock and a hash of a UUID, no allocation once the tenant has been seen).

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::fmt::Write as _;
use std::time::Duration;

use mcpgate_store::TenantId;

/// The exposition's content type.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// JSON-RPC methods counted by name; anything else is `other`.
const METHODS: [&str; 12] = [
    "initialize",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "ping",
    "notification",
    "response",
    "batch",
    "other",
];

/// Decision outcomes, as in audit rows.
pub(crate) const OUTCOMES: [&str; 9] = [
    "allow",
    "deny",
    "limited",
    "shadow",
    "approval_required",
    "approved",
    "approval_denied",
    "approval_expired",
    "error",
];

/// Histogram bucket upper bounds in seconds.
const UPSTREAM_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
const OVERHEAD_BUCKETS: [f64; 10] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// A tenant's id as a label value.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Tenant(TenantId);

impl EncodeLabelValue for Tenant {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        write!(encoder, "{}", self.0)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantLabel {
    tenant: Tenant,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TenantOutcomeLabel {
    tenant: Tenant,
    outcome: &'static str,
}

/// The proxy's metrics and the registry that renders them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: [Counter; METHODS.len()],
    decisions: [Counter; OUTCOMES.len()],
    tenant_decisions: Family<TenantOutcomeLabel, Counter>,
    tenant_limited: Family<TenantLabel, Counter>,
    tenant_upstream_errors: Family<TenantLabel, Counter>,
    upstream: Histogram,
    overhead: Histogram,
    redis_errors: Counter,
    audit_dropped: Counter,
    audit_dead_letter: Counter,
    audit_spool_errors: Counter,
    audit_taken_over: Counter,
    upstream_errors: Counter,
    audit_queue_depth: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<MethodLabel, Counter>::default();
        registry.register(
            "mcpgate_proxy_requests",
            "JSON-RPC messages received, by method",
            requests.clone(),
        );
        let decisions = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "mcpgate_proxy_decisions",
            "tools/call decisions, by outcome",
            decisions.clone(),
        );
        let tenant_decisions = Family::default();
        registry.register(
            "mcpgate_proxy_tenant_decisions",
            "tools/call decisions, by tenant and outcome",
            tenant_decisions.clone(),
        );
        let tenant_limited = Family::default();
        registry.register(
            "mcpgate_proxy_tenant_limits_hit",
            "Calls refused by a rate limit or quota, by tenant",
            tenant_limited.clone(),
        );
        let tenant_upstream_errors = Family::default();
        registry.register(
            "mcpgate_proxy_tenant_upstream_errors",
            "Upstream requests without an answer (connect error, timeout), by tenant",
            tenant_upstream_errors.clone(),
        );
        let upstream = Histogram::new(UPSTREAM_BUCKETS);
        registry.register_with_unit(
            "mcpgate_proxy_upstream",
            "Time from forwarding a request to the upstream's response headers",
            Unit::Seconds,
            upstream.clone(),
        );
        let overhead = Histogram::new(OVERHEAD_BUCKETS);
        registry.register_with_unit(
            "mcpgate_proxy_overhead",
            "Time the proxy spends on a request before forwarding it (auth, parse, policy, limits)",
            Unit::Seconds,
            overhead.clone(),
        );
        let mut counter = |name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        let redis_errors = counter(
            "mcpgate_proxy_redis_errors",
            "Rate-limiter calls that failed or timed out",
        );
        let upstream_errors = counter(
            "mcpgate_proxy_upstream_errors",
            "Upstream requests without an answer (connect error, timeout)",
        );
        let audit_dropped = counter(
            "mcpgate_proxy_audit_dropped",
            "Audit events lost: the queue was full, or the backlog outgrew it during a database outage",
        );
        let audit_dead_letter = counter(
            "mcpgate_proxy_audit_dead_letter",
            "Audit events Postgres refused even after sanitising, kept in the audit_dead_letter table instead",
        );
        let audit_spool_errors = counter(
            "mcpgate_proxy_audit_spool_errors",
            "Audit events that could not be journaled in the spool (queued in memory only)",
        );
        let audit_taken_over = counter(
            "mcpgate_proxy_audit_taken_over",
            "Audit events taken over from the spool journal of a stopped proxy process",
        );
        let audit_queue_depth = Gauge::default();
        registry.register(
            "mcpgate_proxy_audit_queue_depth",
            "Audit events waiting to be written",
            audit_queue_depth.clone(),
        );
        Self {
            requests: METHODS.map(|method| requests.get_or_create(&MethodLabel { method }).clone()),
            decisions: OUTCOMES
                .map(|outcome| decisions.get_or_create(&OutcomeLabel { outcome }).clone()),
            registry,
            tenant_decisions,
            tenant_limited,
            tenant_upstream_errors,
            upstream,
            overhead,
            redis_errors,
            audit_dropped,
            audit_dead_letter,
            audit_spool_errors,
            audit_taken_over,
            upstream_errors,
            audit_queue_depth,
        }
    }
}

impl Metrics {
    /// Counts a message by its JSON-RPC method (or kind).
    pub(crate) fn request(&self, method: &str) {
        let index = METHODS
            .iter()
            .position(|m| *m == method)
            .unwrap_or(METHODS.len() - 1);
        self.requests[index].inc();
    }

    /// Counts a decision of `tenant`'s, and a limit hit when it was one.
    pub(crate) fn decision(&self, tenant: TenantId, outcome: &str) {
        let Some(index) = OUTCOMES.iter().position(|o| *o == outcome) else {
            return;
        };
        self.decisions[index].inc();
        let outcome = OUTCOMES[index];
        let tenant = Tenant(tenant);
        self.tenant_decisions
            .get_or_create(&TenantOutcomeLabel { tenant, outcome })
            .inc();
        if outcome == "limited" {
            self.tenant_limited
                .get_or_create(&TenantLabel { tenant })
                .inc();
        }
    }

    pub(crate) fn upstream_latency(&self, elapsed: Duration) {
        self.upstream.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn overhead(&self, elapsed: Duration) {
        self.overhead.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn redis_error(&self) {
        self.redis_errors.inc();
    }

    /// Counts `count` dropped audit events; the total so far.
    pub(crate) fn audit_dropped(&self, count: u64) -> u64 {
        self.audit_dropped.inc_by(count) + count
    }

    /// Counts `count` audit events set aside in the dead-letter table; the total so far.
    pub(crate) fn audit_dead_lettered(&self, count: u64) -> u64 {
        self.audit_dead_letter.inc_by(count) + count
    }

    /// Counts an event the spool could not journal; the total so far.
    pub(crate) fn audit_spool_error(&self) -> u64 {
        self.audit_spool_errors.inc() + 1
    }

    /// Counts `count` events taken over from a stopped process's journal.
    pub(crate) fn audit_taken_over(&self, count: u64) {
        self.audit_taken_over.inc_by(count);
    }

    /// Counts an upstream request of `tenant`'s that got no answer.
    pub(crate) fn upstream_error(&self, tenant: TenantId) {
        self.upstream_errors.inc();
        self.tenant_upstream_errors
            .get_or_create(&TenantLabel {
                tenant: Tenant(tenant),
            })
            .inc();
    }

    /// The text exposition.
    pub(crate) fn render(&self, audit_queue_depth: usize) -> String {
        self.audit_queue_depth
            .set(i64::try_from(audit_queue_depth).unwrap_or(i64::MAX));
        let mut out = String::with_capacity(8192);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_s_limited_call_counts_as_its_decision_and_its_limit_hit() {
        let metrics = Metrics::default();
        let tenant = TenantId::new();
        metrics.decision(tenant, "limited");
        metrics.decision(tenant, "allow");
        metrics.upstream_error(tenant);
        let text = metrics.render(3);
        for line in [
            "mcpgate_proxy_decisions_total{outcome=\"limited\"} 1".to_owned(),
            format!(
                "mcpgate_proxy_tenant_decisions_total{{tenant=\"{tenant}\",outcome=\"limited\"}} 1"
            ),
            format!(
                "mcpgate_proxy_tenant_decisions_total{{tenant=\"{tenant}\",outcome=\"allow\"}} 1"
            ),
            format!("mcpgate_proxy_tenant_limits_hit_total{{tenant=\"{tenant}\"}} 1"),
            format!("mcpgate_proxy_tenant_upstream_errors_total{{tenant=\"{tenant}\"}} 1"),
            "mcpgate_proxy_audit_queue_depth 3".to_owned(),
            "# UNIT mcpgate_proxy_upstream_seconds seconds".to_owned(),
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
    }
}
