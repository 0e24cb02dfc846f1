//! What a decided request asks for: a tool call, or another governed method (a resource
//! read, a prompt, a completion, a task) with what it names. One type for both, so one
//! pipeline decides, counts, holds, forwards and audits them alike.

use mcpgate_mcp::{method_target, Message, MethodClass, ParseError};
use serde_json::Value;

/// A request the policy decides.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// `tools/call`: the tool rules decide.
    Tool {
        name: String,
        arguments: Value,
        /// The `requestState` a retry of a multi round-trip call echoes.
        request_state: Option<String>,
    },
    /// Any other method the policy decides (its `methods` rules).
    Method {
        method: String,
        /// The resource URI, prompt name, completion reference or task id it names.
        name: Option<String>,
        /// The request's `params` (an empty object when absent).
        params: Value,
        /// A method of the MCP table; unknown ones need the policy to name them.
        known: bool,
    },
}

impl Target {
    /// The decided request in `message`, `Ok(None)` when the policy has no say in it
    /// (plumbing, listings, responses, notifications).
    pub(crate) fn of(message: &Message<'_>) -> Result<Option<Target>, ParseError> {
        let Some(method) = message.method() else {
            return Ok(None);
        };
        let known = match mcpgate_mcp::classify_method(method) {
            MethodClass::ToolCall => {
                return Ok(message.tool_call()?.map(|call| Target::Tool {
                    name: call.name.into_owned(),
                    arguments: call.arguments,
                    request_state: call.request_state,
                }))
            }
            MethodClass::Plumbing | MethodClass::ToolsList | MethodClass::Listing => {
                return Ok(None)
            }
            MethodClass::Governed => true,
            MethodClass::Unknown => false,
        };
        let params = match message.params() {
            None => Value::Object(serde_json::Map::new()),
            Some(raw) => serde_json::from_str(raw.get())
                .map_err(|error| ParseError::InvalidParams(error.to_string()))?,
        };
        Ok(Some(Target::Method {
            method: method.to_owned(),
            name: method_target(method, &params),
            params,
            known,
        }))
    }

    /// The JSON-RPC method.
    pub(crate) fn method(&self) -> &str {
        match self {
            Target::Tool { .. } => "tools/call",
            Target::Method { method, .. } => method,
        }
    }

    /// The tool, resource, prompt or task named, for the audit row and approvals.
    pub(crate) fn name(&self) -> Option<&str> {
        match self {
            Target::Tool { name, .. } => Some(name),
            Target::Method { name, .. } => name.as_deref(),
        }
    }

    /// What conditions look at and the audit row records: a tool's arguments, another
    /// method's params.
    pub(crate) fn arguments(&self) -> &Value {
        match self {
            Target::Tool { arguments, .. } => arguments,
            Target::Method { params, .. } => params,
        }
    }

    /// The `requestState` this request echoes (the retry of a multi round-trip request).
    pub(crate) fn request_state(&self) -> Option<&str> {
        match self {
            Target::Tool { request_state, .. } => request_state.as_deref(),
            Target::Method { params, .. } => params.get("requestState")?.as_str(),
        }
    }

    /// The task a `tasks/*` request is about.
    pub(crate) fn task_id(&self) -> Option<&str> {
        match self {
            Target::Method {
                method,
                name: Some(task),
                ..
            } if method.starts_with("tasks/") && method != "tasks/list" => Some(task),
            Target::Tool { .. } | Target::Method { .. } => None,
        }
    }

    /// Whether a refusal can be a tool result (`isError`); other methods get a JSON-RPC
    /// error, the only refusal their result types leave room for.
    pub(crate) fn is_tool(&self) -> bool {
        matches!(self, Target::Tool { .. })
    }
}
