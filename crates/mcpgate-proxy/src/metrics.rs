//! `GET /metrics` in the Prometheus text format, written by hand: a few atomic counters
//! and two fixed-bucket histograms do not justify a metrics crate and its registry.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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

/// The proxy's counters.
#[derive(Debug)]
pub(crate) struct Metrics {
    requests: [AtomicU64; METHODS.len()],
    decisions: [AtomicU64; OUTCOMES.len()],
    upstream: Histogram<{ UPSTREAM_BUCKETS.len() }>,
    overhead: Histogram<{ OVERHEAD_BUCKETS.len() }>,
    redis_errors: AtomicU64,
    audit_dropped: AtomicU64,
    audit_dead_letter: AtomicU64,
    upstream_errors: AtomicU64,
}

#[derive(Debug)]
struct Histogram<const N: usize> {
    bounds: &'static [f64; N],
    counts: [AtomicU64; N],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: &'static [f64; N]) -> Self {
        Self {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        // Cumulative buckets are computed at render time; store per-bucket counts here.
        if let Some(index) = self.bounds.iter().position(|bound| seconds <= *bound) {
            self.counts[index].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: std::array::from_fn(|_| AtomicU64::new(0)),
            decisions: std::array::from_fn(|_| AtomicU64::new(0)),
            upstream: Histogram::new(&UPSTREAM_BUCKETS),
            overhead: Histogram::new(&OVERHEAD_BUCKETS),
            redis_errors: AtomicU64::new(0),
            audit_dropped: AtomicU64::new(0),
            audit_dead_letter: AtomicU64::new(0),
            upstream_errors: AtomicU64::new(0),
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
        self.requests[index].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn decision(&self, outcome: &str) {
        if let Some(index) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.decisions[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn upstream_latency(&self, elapsed: Duration) {
        self.upstream.observe(elapsed);
    }

    pub(crate) fn overhead(&self, elapsed: Duration) {
        self.overhead.observe(elapsed);
    }

    pub(crate) fn redis_error(&self) {
        self.redis_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts `count` dropped audit events; the total so far.
    pub(crate) fn audit_dropped(&self, count: u64) -> u64 {
        self.audit_dropped.fetch_add(count, Ordering::Relaxed) + count
    }

    /// Counts `count` audit events set aside in the dead-letter table; the total so far.
    pub(crate) fn audit_dead_lettered(&self, count: u64) -> u64 {
        self.audit_dead_letter.fetch_add(count, Ordering::Relaxed) + count
    }

    pub(crate) fn upstream_error(&self) {
        self.upstream_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition.
    pub(crate) fn render(&self, audit_queue_depth: usize) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        };
        counter(
            &mut out,
            "mcpgate_proxy_requests_total",
            "JSON-RPC messages received, by method.",
        );
        for (method, count) in METHODS.iter().zip(&self.requests) {
            let value = count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "mcpgate_proxy_requests_total{{method=\"{method}\"}} {value}"
            );
        }
        counter(
            &mut out,
            "mcpgate_proxy_decisions_total",
            "tools/call decisions, by outcome.",
        );
        for (outcome, count) in OUTCOMES.iter().zip(&self.decisions) {
            let value = count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "mcpgate_proxy_decisions_total{{outcome=\"{outcome}\"}} {value}"
            );
        }
        self.upstream.render(
            &mut out,
            "mcpgate_proxy_upstream_seconds",
            "Time from forwarding a request to the upstream's response headers.",
        );
        self.overhead.render(
            &mut out,
            "mcpgate_proxy_overhead_seconds",
            "Time the proxy spends on a request before forwarding it (auth, parse, policy, limits).",
        );
        for (name, help, value) in [
            (
                "mcpgate_proxy_redis_errors_total",
                "Rate-limiter calls that failed or timed out.",
                &self.redis_errors,
            ),
            (
                "mcpgate_proxy_upstream_errors_total",
                "Upstream requests without an answer (connect error, timeout).",
                &self.upstream_errors,
            ),
            (
                "mcpgate_proxy_audit_dropped_total",
                "Audit events lost: the queue was full, or the backlog outgrew it during a database outage.",
                &self.audit_dropped,
            ),
            (
                "mcpgate_proxy_audit_dead_letter_total",
                "Audit events Postgres refused even after sanitising, kept in the audit_dead_letter table instead.",
                &self.audit_dead_letter,
            ),
        ] {
            counter(&mut out, name, help);
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP mcpgate_proxy_audit_queue_depth Audit events waiting to be written.\n\
             # TYPE mcpgate_proxy_audit_queue_depth gauge\nmcpgate_proxy_audit_queue_depth {audit_queue_depth}"
        );
        out
    }
}
