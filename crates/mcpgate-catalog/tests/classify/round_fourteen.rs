//! Round 14 (issue 14): idioms among the twelfth held-out set's misses, read in general terms.
//! Pinned on made-up tools outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::class_of;

#[test]
fn an_action_router_one_of_whose_actions_runs_the_callers_sql_is_an_execute() {
    let router = json!({
        "name": "bi_query",
        "description": "Manage saved queries. Actions: list, get, create, delete, run, adhoc.",
        "inputSchema": {"type": "object", "properties": {
            "action": {"type": "string", "enum": ["list", "get", "create", "delete", "run", "adhoc"]},
            "id": {"type": "integer"},
            "query": {"type": "string", "description": "SQL text (for create and adhoc)"}
        }, "required": ["action"]}
    });
    assert_eq!(class_of(router), (Category::Execute, Risk::High));
    // Guard: the same router without a run action only manages the saved queries.
    let manages = json!({
        "name": "bi_query",
        "description": "Manage saved queries. Actions: list, get, create.",
        "inputSchema": {"type": "object", "properties": {
            "action": {"type": "string", "enum": ["list", "get", "create"]},
            "id": {"type": "integer"},
            "query": {"type": "string", "description": "SQL text (for create)"}
        }, "required": ["action"]}
    });
    assert_ne!(class_of(manages).0, Category::Execute);
}

#[test]
fn creating_a_prediction_or_a_training_runs_a_hosted_model() {
    let prediction = json!({
        "name": "create_predictions",
        "description": "Create a prediction for a model version with the given input.",
        "inputSchema": {"type": "object", "properties": {
            "version": {"type": "string"}, "input": {"type": "object"}
        }, "required": ["version", "input"]}
    });
    assert_eq!(class_of(prediction), (Category::Execute, Risk::Medium));
}
