//! `demo_long_job` and the tasks extension (`io.modelcontextprotocol/tasks`, EXT
//! tasks.md): a client that declares the extension gets a task at once and polls
//! `tasks/get`; any other client waits for the result on its POST.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::error::ModernError;
use super::ladder::Envelope;
use super::stamp::{self, ResultType};
use crate::dispatch::{result, text_result, Reply};
use crate::server::AppState;

pub(crate) const TOOL: &str = "demo_long_job";
pub(crate) const EXTENSION: &str = "io.modelcontextprotocol/tasks";
const POLL_INTERVAL_MS: u64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Working,
    Completed,
    Cancelled,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Working => "working",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug)]
struct Task {
    status: Status,
    created_at: String,
    updated_at: String,
    /// The `CallToolResult` body, once completed.
    result: Option<String>,
    cancel: CancellationToken,
}

/// Every task handed out, kept until the server stops (no expiry: `ttlMs: null`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Tasks(Arc<Mutex<HashMap<String, Task>>>);

impl Tasks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Task>> {
        self.0.lock().expect("task table poisoned")
    }

    fn finish(&self, id: &str, status: Status, result: Option<String>) {
        if let Some(task) = self.lock().get_mut(id) {
            if task.status == Status::Working {
                task.status = status;
                task.updated_at = now();
                task.result = result;
            }
        }
    }

    /// The task's fields as `tasks/get` and the create result show them.
    fn describe(&self, id: &str) -> Option<Value> {
        let tasks = self.lock();
        let task = tasks.get(id)?;
        let mut fields = json!({
            "taskId": id,
            "status": task.status.as_str(),
            "createdAt": task.created_at,
            "lastUpdatedAt": task.updated_at,
            "ttlMs": null,
            "pollIntervalMs": POLL_INTERVAL_MS,
        });
        if let Some(result) = &task.result {
            fields["result"] = serde_json::from_str(result).expect("results are JSON");
        }
        Some(fields)
    }
}

pub(crate) async fn long_job(state: &AppState, request: &Envelope<'_>, arguments: &Value) -> Reply {
    let done = text_result(&format!("{TOOL} done: {arguments}"), false);
    if !request.declares_extension(EXTENSION) {
        // EXT: a server MUST NOT return a task to a request lacking the extension.
        tokio::time::sleep(state.settings.task_duration).await;
        return Reply::Message(result(request.id, &stamp::complete(state, done)));
    }
    let tasks = state.modern.tasks.clone();
    let id = uuid::Uuid::new_v4().to_string();
    let cancel = state.shutdown.child_token();
    let created = now();
    tasks.lock().insert(
        id.clone(),
        Task {
            status: Status::Working,
            created_at: created.clone(),
            updated_at: created,
            result: None,
            cancel: cancel.clone(),
        },
    );
    let duration = state.settings.task_duration;
    let mut body = tasks.describe(&id).expect("just inserted");
    body["statusMessage"] = format!("{TOOL} is running").into();
    tokio::spawn({
        let id = id.clone();
        async move {
            tokio::select! {
                () = tokio::time::sleep(duration) => tasks.finish(&id, Status::Completed, Some(done)),
                () = cancel.cancelled() => tasks.finish(&id, Status::Cancelled, None),
            }
        }
    });
    let body = stamp::stamp(state, &body.to_string(), ResultType::Task, false);
    Reply::Message(result(request.id, &body))
}

/// `tasks/get`, `tasks/update` and `tasks/cancel`; the result body.
pub(crate) fn answer(state: &AppState, request: &Envelope<'_>) -> Result<String, ModernError> {
    let tasks = &state.modern.tasks;
    let id = request.str_param("taskId").ok_or_else(|| {
        ModernError::invalid_params(format!("{} needs params.taskId", request.method))
    })?;
    let unknown = || {
        ModernError::invalid_params(format!("Unknown task: {id}"))
            .with_data(json!({ "taskId": id }))
    };
    let body = match request.method {
        "tasks/get" => tasks.describe(id).ok_or_else(unknown)?.to_string(),
        "tasks/cancel" => {
            // Cooperative and idempotent: a finished task stays as it is.
            let cancel = tasks
                .lock()
                .get(id)
                .map(|t| t.cancel.clone())
                .ok_or_else(unknown)?;
            cancel.cancel();
            tasks.finish(id, Status::Cancelled, None);
            "{}".to_owned()
        }
        _ => {
            // tasks/update: inputResponses for an input_required task; this job asks
            // for none, so the (eventually consistent) ack is all there is.
            tasks.describe(id).ok_or_else(unknown)?;
            "{}".to_owned()
        }
    };
    Ok(stamp::complete(state, body))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
