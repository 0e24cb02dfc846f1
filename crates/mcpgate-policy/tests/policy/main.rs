//! The policy crate's one test binary.

mod decisions;
mod language;
mod limits;
mod methods;
mod properties;
mod schema;
mod simulation;
mod type_confusion;
mod validation;

use mcpgate_policy::{
    compile, evaluate, parse, Classification, CompiledPolicy, Decision, ToolCall,
};
use serde_json::Value;

/// The seed document: PolicyLayer's recommended rule for `k8s_run_pod`.
pub const SEED: &str = r#"{"version": "1", "default": "deny",
 "tools": {"k8s_run_pod": {"limits": [
   {"counter": "k8s_run_pod_rate", "window": "minute", "max": 10, "scope": "grant"}]}}}"#;

/// Parses and compiles a document that must be valid.
pub fn policy(document: Value) -> CompiledPolicy {
    let parsed = parse(&document.to_string()).unwrap_or_else(|errors| panic!("{errors}"));
    compile(&parsed).unwrap()
}

/// Decides a call from tenant `t1`, server `s1`, grant `g1`.
pub fn decide(policy: &CompiledPolicy, tool: &str, arguments: Value) -> Decision {
    decide_classified(policy, tool, None, arguments)
}

/// Decides a call to a classified tool.
pub fn decide_classified(
    policy: &CompiledPolicy,
    tool: &str,
    classification: Option<Classification>,
    arguments: Value,
) -> Decision {
    let call = ToolCall {
        tenant_id: "t1",
        server_id: "s1",
        grant_id: "g1",
        tool,
        classification,
        arguments: &arguments,
    };
    evaluate(policy, &call)
}

/// The errors of a document that must be invalid, as `(path, message)` pairs.
pub fn errors(document: Value) -> Vec<(String, String)> {
    match parse(&document.to_string()) {
        Ok(_) => panic!("expected errors for {document}"),
        Err(errors) => errors
            .errors
            .into_iter()
            .map(|e| (e.path, e.message))
            .collect(),
    }
}

/// Asserts an error is reported at `path` with a message containing `words`.
pub fn assert_error(errors: &[(String, String)], path: &str, words: &str) {
    assert!(
        errors.iter().any(|(p, m)| p == path && m.contains(words)),
        "no error at {path} containing {words:?} in {errors:#?}"
    );
}
