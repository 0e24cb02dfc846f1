//! What a gateway does with each MCP method a client sends (protocol revisions
//! 2024-11-05 to 2026-07-28). The proxy's README and `docs/policy.md` carry the same
//! table for people; this is the one the code uses.
//!
//! | class | methods | what the proxy does |
//! |---|---|---|
//! | [`MethodClass::Plumbing`] | `initialize`, `ping`, `server/discover`, `logging/setLevel`, `resources/unsubscribe`, `subscriptions/listen`, every `notifications/*` | relayed: no effect outside the session |
//! | [`MethodClass::ToolsList`] | `tools/list` | relayed, the answer filtered per grant |
//! | [`MethodClass::Listing`] | `resources/list`, `resources/templates/list`, `prompts/list` | relayed (prompt and resource lists filtered per grant, see [`crate::ListKind`]) |
//! | [`MethodClass::ToolCall`] | `tools/call` | decided by the policy's tool rules |
//! | [`MethodClass::Governed`] | `resources/read`, `resources/subscribe`, `prompts/get`, `completion/complete`, `tasks/*` | decided by the policy's `methods` rules (else its `default`) |
//! | [`MethodClass::Unknown`] | anything else | refused unless the policy's `methods` names it |

use serde_json::Value;

/// How the gateway treats a method; see the module's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodClass {
    /// Protocol plumbing, relayed as sent.
    Plumbing,
    /// `tools/list`: relayed, its answer filtered.
    ToolsList,
    /// A list of resources or prompts: relayed.
    Listing,
    /// `tools/call`: the tool rules decide.
    ToolCall,
    /// A known method with an effect: the `methods` rules decide.
    Governed,
    /// Not an MCP method this gateway knows.
    Unknown,
}

/// The class of `method`.
pub fn classify_method(method: &str) -> MethodClass {
    match method {
        "tools/call" => MethodClass::ToolCall,
        "tools/list" => MethodClass::ToolsList,
        "resources/list" | "resources/templates/list" | "prompts/list" => MethodClass::Listing,
        "initialize"
        | "ping"
        | "server/discover"
        | "logging/setLevel"
        | "resources/unsubscribe"
        | "subscriptions/listen" => MethodClass::Plumbing,
        "resources/read" | "resources/subscribe" | "prompts/get" | "completion/complete" => {
            MethodClass::Governed
        }
        _ if method.starts_with("notifications/") => MethodClass::Plumbing,
        _ if method.starts_with("tasks/") => MethodClass::Governed,
        _ => MethodClass::Unknown,
    }
}

/// What a governed request names, for rules and the audit log: the resource URI of
/// `resources/*`, the prompt's name, the completion reference's name or URI, a task's id.
pub fn method_target(method: &str, params: &Value) -> Option<String> {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    match method {
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            params.get("uri").and_then(text)
        }
        "prompts/get" => params.get("name").and_then(text),
        "completion/complete" => params
            .get("ref")
            .and_then(|reference| reference.get("name").or_else(|| reference.get("uri")))
            .and_then(text),
        _ if method.starts_with("tasks/") => params.get("taskId").and_then(text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_method_falls_in_one_class() {
        assert_eq!(classify_method("tools/call"), MethodClass::ToolCall);
        assert_eq!(classify_method("tools/list"), MethodClass::ToolsList);
        assert_eq!(classify_method("prompts/list"), MethodClass::Listing);
        assert_eq!(
            classify_method("notifications/initialized"),
            MethodClass::Plumbing
        );
        assert_eq!(classify_method("resources/read"), MethodClass::Governed);
        assert_eq!(classify_method("tasks/get"), MethodClass::Governed);
        assert_eq!(classify_method("admin/shutdown"), MethodClass::Unknown);
        assert_eq!(classify_method("tools/call "), MethodClass::Unknown);
        assert_eq!(classify_method(""), MethodClass::Unknown);
    }

    #[test]
    fn targets_come_from_the_params_each_method_names() {
        let target = |method, params| method_target(method, &params);
        assert_eq!(
            target("resources/read", json!({"uri": "file:///a"})).as_deref(),
            Some("file:///a")
        );
        assert_eq!(
            target("prompts/get", json!({"name": "greet"})).as_deref(),
            Some("greet")
        );
        assert_eq!(
            target(
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "p"}})
            )
            .as_deref(),
            Some("p")
        );
        assert_eq!(target("resources/read", json!({"uri": 7})), None);
        assert_eq!(target("ping", json!({})), None);
    }
}
