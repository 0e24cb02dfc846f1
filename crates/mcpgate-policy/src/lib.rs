//! The mcpgate policy language: parse, validate, compile and evaluate.
//!
//! Pure: no I/O, no async, no HTTP. Used by the API (validate, simulate) and the
//! proxy (enforce). The language is described in `docs/policy.md`. A `tools/call`
//! is decided by [`evaluate`], a request for any other governed MCP method
//! (`resources/read`, `prompts/get`, ...) by [`evaluate_method`].
//!
//! ```
//! use mcpgate_policy::{compile, evaluate, parse, Outcome, ToolCall};
//!
//! let policy = parse(r#"{"version": "1", "default": "deny",
//!     "tools": {"k8s_run_pod": {"limits": [
//!         {"counter": "k8s_run_pod_rate", "window": "minute", "max": 10, "scope": "grant"}]}}}"#)
//!     .unwrap();
//! let compiled = compile(&policy).unwrap();
//! let arguments = serde_json::json!({"image": "registry.internal/app"});
//! let call = ToolCall {
//!     tenant_id: "t1", server_id: "s1", grant_id: "g1", tool: "k8s_run_pod",
//!     classification: None, arguments: &arguments,
//! };
//! let decision = evaluate(&compiled, &call);
//! assert_eq!(decision.outcome, Outcome::Allow);
//! assert_eq!(decision.charges[0].key, "rl:{t1}:grant:g1:k8s_run_pod_rate");
//! ```

#![warn(missing_docs)]

mod classification;
mod compile;
mod condition;
mod decision;
mod document;
mod duplicates;
mod error;
mod evaluate;
mod glob;
mod method;
mod parse;
mod path;
mod schema;
mod settings;
mod simulate;
mod span;

pub use classification::{Category, Classification, Risk, UnknownName};
pub use compile::{compile, CompiledPolicy};
pub use decision::{combine, Charge, Decision, Outcome};
pub use document::{
    Action, AllTools, ClassMatch, ClassRule, Condition, DefaultAction, Hide, Limit, MethodTestCall,
    Mode, Op, Policy, Rule, Scope, TestCall, TestCase, ToolTestCall,
};
pub use error::{ValidationError, ValidationErrors};
pub use evaluate::{evaluate, filter_tools, visible, ToolCall};
pub use method::{evaluate_method, MethodCall, UNKNOWN_METHOD_RULE};
pub use parse::{parse, parse_value};
pub use schema::json_schema;
pub use settings::{AuditMode, DenyResponse, LimiterErrorPolicy, Settings};
pub use simulate::{simulate, SimulatedCall};
pub use span::{CounterName, Span};
