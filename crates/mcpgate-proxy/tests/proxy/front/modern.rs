//! The front's answers as a 2026-07-28 server.

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{json, Value};

use super::Behaviour;

fn result(id: &Value, result: Value) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": id, "result": result});
    (
        StatusCode::OK,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn answer(tools: &[Value], behaviour: Behaviour, request: Option<&Value>) -> Response {
    let Some(request) = request else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let id = &request["id"];
    let params = &request["params"];
    match request["method"].as_str().unwrap_or_default() {
        "tools/list" => result(
            id,
            json!({"tools": tools, "ttlMs": 60000, "cacheScope": "public", "resultType": "complete"}),
        ),
        "tools/call"
            if behaviour == Behaviour::ModernInputRequired
                && params.get("inputResponses").is_none() =>
        {
            result(
                id,
                json!({"resultType": "input_required", "requestState": "s1",
                    "inputRequests": {"confirm": {"method": "elicitation/create",
                        "params": {"message": "Sure?", "requestedSchema": {"type": "object"}}}}}),
            )
        }
        "tools/call"
            if behaviour == Behaviour::ModernInputRequired && params["requestState"] != "s1" =>
        {
            result(
                id,
                json!({"resultType": "complete", "isError": true,
                    "content": [{"type": "text", "text": "requestState was not echoed"}]}),
            )
        }
        "tools/call" if behaviour == Behaviour::ModernTasks => {
            let task = format!("task-{}", id.as_u64().unwrap_or_default());
            result(
                id,
                json!({"resultType": "task", "taskId": task, "status": "working",
                    "createdAt": "2026-12-01T00:00:00Z", "lastUpdatedAt": "2026-12-01T00:00:00Z",
                    "ttlMs": 60000}),
            )
        }
        "tools/call" => {
            let tool = params["name"].as_str().unwrap_or_default();
            result(
                id,
                json!({"resultType": "complete",
                    "content": [{"type": "text", "text": format!("ran {tool}")}]}),
            )
        }
        "prompts/list" => result(
            id,
            json!({"prompts": [{"name": "greet"}, {"name": "secret_prompt"}],
                "ttlMs": 1000, "cacheScope": "public", "resultType": "complete"}),
        ),
        "resources/list" => result(
            id,
            json!({"resources": [{"uri": "k8s://public/a", "name": "a"},
                    {"uri": "k8s://secret/x", "name": "x"}],
                "ttlMs": 1000, "cacheScope": "public", "resultType": "complete"}),
        ),
        "tasks/get" => result(
            id,
            json!({"resultType": "complete", "taskId": params["taskId"], "status": "completed",
                "result": {"content": [{"type": "text", "text": "task done"}]}}),
        ),
        "subscriptions/listen" => {
            let meta = json!({"io.modelcontextprotocol/subscriptionId": id});
            let ack = json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged",
                "params": {"_meta": meta, "notifications": {"toolsListChanged": true}}});
            let changed = json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed",
                "params": {"_meta": meta}});
            let frames = [
                Ok::<_, std::io::Error>(Bytes::from(format!("event: message\ndata: {ack}\n\n"))),
                Ok(Bytes::from_static(b": keep-alive\n\n")),
                Ok(Bytes::from(format!("event: message\ndata: {changed}\n\n"))),
            ];
            use futures_util::StreamExt;
            let stream = futures_util::stream::iter(frames).chain(futures_util::stream::pending());
            (
                StatusCode::OK,
                [(http::header::CONTENT_TYPE, "text/event-stream")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        "server/discover" => result(
            id,
            json!({"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {"listChanged": true}},
                "ttlMs": 0, "cacheScope": "public", "resultType": "complete"}),
        ),
        other => {
            let body = json!({"jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": format!("Method not found: {other}")}});
            (
                StatusCode::NOT_FOUND,
                [(http::header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response()
        }
    }
}
