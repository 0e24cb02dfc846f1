//! A held call answered as a task (the 2026-07-28 tasks extension): when the client
//! declares `io.modelcontextprotocol/tasks`, a call that needs a person's approval is
//! answered at once with a task instead of an open stream. The call waits in the process
//! that received it, exactly as a held stream does; its final answer is kept in Redis,
//! where `tasks/get` from any replica finds it. The task id is bound to the grant and tool
//! like any task ([`crate::tasks`]), so only that grant can poll or cancel it.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use mcpgate_mcp::sse::SseParser;
use mcpgate_mcp::{Incoming, Kind, RequestId};
use mcpgate_store::approvals::{self, Approval};
use mcpgate_store::changes::{publish, Change};
use mcpgate_store::{ApprovalId, TenantId};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::mcp::call::Call;
use crate::state::AppState;

/// Task ids of held calls begin with this; the rest is the approval's id.
pub(crate) const APPROVAL_TASK_PREFIX: &str = "mcpgate-approval-";

/// How long a decided call's answer is kept for polling.
const RESULT_TTL_MS: u64 = 60 * 60 * 1000;

/// The extension key a client declares in its capabilities.
const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// Whether the request `body` declares the tasks extension in its `_meta`
/// client capabilities.
pub(crate) fn tasks_declared(body: &[u8]) -> bool {
    let Ok(Incoming::Single(message)) = mcpgate_mcp::parse(body) else {
        return false;
    };
    message
        .params()
        .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
        .is_some_and(|params| {
            params["_meta"]["io.modelcontextprotocol/clientCapabilities"]["extensions"]
                .get(TASKS_EXTENSION)
                .is_some()
        })
}

/// The approval behind an approval task id.
pub(crate) fn approval_of(task: &str) -> Option<ApprovalId> {
    task.strip_prefix(APPROVAL_TASK_PREFIX)?.parse().ok()
}

fn result_key(tenant: TenantId, approval: ApprovalId) -> String {
    format!("approvaltask:{{{tenant}}}:{approval}")
}

/// The task a held call is answered with.
pub(crate) fn created(approval: &Approval, reason: Option<&str>) -> Value {
    let waiting = match reason {
        Some(reason) => format!("waiting for a person's approval: {reason}"),
        None => "waiting for a person's approval".to_owned(),
    };
    let ttl = (approval.expires_at - approval.created_at)
        .num_milliseconds()
        .max(0);
    json!({
        "resultType": "task",
        "taskId": format!("{APPROVAL_TASK_PREFIX}{}", approval.id),
        "status": "working",
        "statusMessage": waiting,
        "createdAt": stamp(approval.created_at),
        "lastUpdatedAt": stamp(approval.created_at),
        "ttlMs": ttl + i64::try_from(RESULT_TTL_MS).unwrap_or(i64::MAX),
        "pollIntervalMs": 2000,
    })
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads what the waiting call writes (keep-alives, progress, its final answer) and
/// keeps the final answer to `id` in Redis once the wait ends.
pub(crate) async fn collect(
    state: AppState,
    tenant: TenantId,
    approval: ApprovalId,
    id: Box<RawValue>,
    mut frames: mpsc::Receiver<Bytes>,
) {
    let mut parser = SseParser::new();
    let mut answer: Option<String> = None;
    let wanted = RequestId::from_raw(&id).ok();
    while let Some(frame) = frames.recv().await {
        if parser.push(&frame).is_err() {
            continue;
        }
        while let Some(event) = parser.next_event() {
            let Some(data) = event.data() else { continue };
            if let Ok(Incoming::Single(message)) = mcpgate_mcp::parse(data.as_bytes()) {
                if message.kind() == Kind::Response && message.request_id() == wanted {
                    answer = Some(data.to_owned());
                }
            }
        }
    }
    let answer = answer.unwrap_or_else(|| {
        String::from_utf8_lossy(&mcpgate_mcp::error_response(
            Some(&id),
            crate::refusal::UPSTREAM_UNAVAILABLE,
            "the held call ended without an answer",
            None,
        ))
        .into_owned()
    });
    let mut redis = state.redis.connection();
    let stored: Result<(), _> = redis::cmd("SET")
        .arg(result_key(tenant, approval))
        .arg(answer)
        .arg("PX")
        .arg(RESULT_TTL_MS)
        .query_async(&mut redis)
        .await;
    if let Err(error) = stored {
        tracing::error!(%error, %approval, "keeping a held call's answer for its task failed");
    }
}

/// A JSON-RPC result for `id` (echoed as the client sent it).
pub(crate) fn reply(id: &RawValue, result: &Value) -> Vec<u8> {
    format!(r#"{{"jsonrpc":"2.0","id":{},"result":{result}}}"#, id.get()).into_bytes()
}

/// The proxy's own answer to `tasks/get`, `tasks/cancel` or `tasks/update` on the
/// approval task `approval` (the caller was checked: it is the task's grant).
pub(crate) async fn answer(call: &Call, approval: ApprovalId) -> Vec<u8> {
    let state = &call.state;
    let tenant = call.caller.tenant;
    let task = format!("{APPROVAL_TASK_PREFIX}{approval}");
    let reply = |result: Value| reply(&call.id, &result);
    let row = match approvals::approval(state.cache.db(), tenant, approval).await {
        Ok(row) => row,
        Err(error) => {
            tracing::warn!(%error, %approval, "reading an approval task failed");
            return call.upstream_error("the task's approval could not be read; try again shortly");
        }
    };
    match call.target.method() {
        "tasks/cancel" => {
            if row.status == "pending" {
                let cancelled = approvals::decide_approval(
                    state.cache.db(),
                    tenant,
                    approval,
                    "denied",
                    "the client (tasks/cancel)",
                    Some("cancelled by the client"),
                )
                .await;
                if cancelled.is_ok() {
                    let change = Change::Approval {
                        tenant,
                        approval,
                        status: "denied".into(),
                    };
                    if let Err(error) = publish(&state.redis, &change).await {
                        tracing::warn!(%error, "announcing a cancelled approval failed; the held call finds it by polling");
                    }
                }
            }
            return reply(json!({"resultType": "complete"}));
        }
        "tasks/update" => return reply(json!({"resultType": "complete"})),
        _ => {}
    }
    let mut redis = state.redis.connection();
    let stored: Option<String> = redis::cmd("GET")
        .arg(result_key(tenant, approval))
        .query_async(&mut redis)
        .await
        .ok()
        .flatten();
    let mut result = json!({
        "resultType": "complete",
        "taskId": task,
        "createdAt": stamp(row.created_at),
        "lastUpdatedAt": stamp(row.decided_at.unwrap_or(row.created_at)),
    });
    let final_answer = stored.and_then(|text| serde_json::from_str::<Value>(&text).ok());
    match final_answer {
        Some(answer) if answer.get("result").is_some() => {
            result["status"] = json!("completed");
            result["result"] = answer["result"].clone();
        }
        Some(answer) => {
            result["status"] = json!("failed");
            result["error"] = answer["error"].clone();
        }
        None => {
            result["status"] = json!("working");
            result["statusMessage"] = json!(match row.status.as_str() {
                "pending" => "waiting for a person's approval",
                "approved" => "approved; the call is running",
                _ => "decided; the answer is on its way",
            });
        }
    }
    reply(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tasks_extension_is_read_from_the_request_capabilities() {
        let with = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}}}"#;
        let without = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"t","_meta":{"io.modelcontextprotocol/clientCapabilities":{}}}}"#;
        assert!(tasks_declared(with));
        assert!(!tasks_declared(without));
        assert!(!tasks_declared(b"[]"));
    }

    #[test]
    fn approval_task_ids_name_their_approval() {
        let approval = ApprovalId::new();
        assert_eq!(
            approval_of(&format!("{APPROVAL_TASK_PREFIX}{approval}")),
            Some(approval)
        );
        assert_eq!(approval_of("task-1"), None);
        assert_eq!(approval_of("mcpgate-approval-not-a-uuid"), None);
    }
}
