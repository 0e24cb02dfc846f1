//! `demo_confirm`: a multi round-trip request (SPEC basic/patterns/mrtr.mdx). The first
//! round answers `input_required` with an elicitation and an opaque `requestState`;
//! the retry carrying `inputResponses.confirm` and that state completes.

use std::collections::HashSet;
use std::sync::Mutex;

use serde_json::{json, Value};

use super::error::{ModernError, MISSING_CLIENT_CAPABILITY};
use super::ladder::Envelope;
use super::stamp::{self, ResultType};
use crate::dispatch::{result, text_result, Reply};
use crate::server::AppState;

pub(crate) const TOOL: &str = "demo_confirm";
/// The `inputRequests` key the answer is expected under.
const KEY: &str = "confirm";

/// The `requestState`s this server handed out: anything else is tampered with.
#[derive(Debug, Default)]
pub(crate) struct IssuedStates(Mutex<HashSet<String>>);

impl IssuedStates {
    fn issue(&self) -> String {
        let state = format!("demo-confirm.{}", uuid::Uuid::new_v4().simple());
        self.lock().insert(state.clone());
        state
    }

    fn knows(&self, state: &str) -> bool {
        self.lock().contains(state)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().expect("request states poisoned")
    }
}

pub(crate) fn confirm(
    state: &AppState,
    request: &Envelope<'_>,
    arguments: &Value,
) -> Result<Reply, ModernError> {
    // mrtr.mdx: never ask for what this request's client did not declare.
    if !request.declares("elicitation") {
        return Err(ModernError::new(
            MISSING_CLIENT_CAPABILITY,
            "demo_confirm needs the elicitation client capability",
        )
        .with_data(json!({ "requiredCapabilities": { "elicitation": {} } })));
    }
    let issued = &state.modern.issued_states;
    let echoed = match request.params.get("requestState") {
        None => false,
        Some(Value::String(echoed)) if issued.knows(echoed) => true,
        Some(_) => {
            return Err(
                ModernError::invalid_params("Invalid or expired requestState")
                    .with_data(json!({ "reason": "invalid_request_state" })),
            )
        }
    };
    let answer = request
        .params
        .get("inputResponses")
        .and_then(|responses| responses.get(KEY));
    let body = match answer {
        Some(answer) if echoed => {
            stamp::complete(state, text_result(&outcome(answer, arguments), false))
        }
        // Missing responses or state: ask (again) rather than fail (mrtr.mdx SHOULD).
        _ => ask(state, arguments),
    };
    Ok(Reply::Message(result(request.id, &body)))
}

fn ask(state: &AppState, arguments: &Value) -> String {
    let body = json!({
        "inputRequests": { KEY: {
            "method": "elicitation/create",
            "params": {
                "mode": "form",
                "message": format!("Run demo_confirm with {arguments}?"),
                "requestedSchema": {
                    "type": "object",
                    "properties": { "confirmed": { "type": "boolean", "title": "Confirm" } },
                    "required": ["confirmed"],
                },
            },
        }},
        "requestState": state.modern.issued_states.issue(),
    });
    stamp::stamp(state, &body.to_string(), ResultType::InputRequired, false)
}

fn outcome(answer: &Value, arguments: &Value) -> String {
    let action = answer
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("none");
    let confirmed = answer
        .get("content")
        .and_then(|c| c.get("confirmed"))
        .and_then(Value::as_bool)
        == Some(true);
    if action == "accept" && confirmed {
        format!("demo_confirm confirmed: {arguments}")
    } else {
        format!("demo_confirm declined: {action}")
    }
}
