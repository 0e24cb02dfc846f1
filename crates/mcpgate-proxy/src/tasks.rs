//! Tasks (the `io.modelcontextprotocol/tasks` extension, and 2025-11-25's experimental
//! tasks): a `tools/call` may be answered with a task id instead of its result, and the
//! result is fetched later with `tasks/get` (or `tasks/result`). The upstream knows no
//! grants: anyone holding a task id could poll its result or cancel it. So the proxy binds
//! every task id it relays to the grant and tool that created it, in Redis (any replica
//! serves the follow-up), and a `tasks/*` request is allowed only for that grant, decided
//! as that tool.

use std::time::Duration;

use std::fmt::Write as _;

use mcpgate_store::{GrantId, Redis, ServerId, TenantId};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

/// How long a binding lives when the task names no TTL of its own.
const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest a binding lives, whatever the task says.
const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How long a handed-out `requestState` may be echoed.
const STATE_TTL: Duration = Duration::from_secs(60 * 60);

/// The task bindings in Redis.
#[derive(Debug, Clone)]
pub(crate) struct TaskBindings {
    redis: Redis,
    timeout: Duration,
}

/// Who created a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TaskOwner {
    pub(crate) grant: GrantId,
    pub(crate) tool: String,
}

/// A task an answer created: its id and how long it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreatedTask {
    pub(crate) id: String,
    pub(crate) ttl: Option<Duration>,
}

impl TaskBindings {
    pub(crate) fn new(redis: Redis, timeout: Duration) -> Self {
        Self { redis, timeout }
    }

    fn key(tenant: TenantId, server: ServerId, task: &str) -> String {
        // The tenant hash tag keeps a tenant's keys in one cluster slot, as the limiter's.
        format!("task:{{{tenant}}}:{server}:{task}")
    }

    /// Records that `grant` created `task` by calling `tool`, before the client learns
    /// the task id (it may poll at once). A failed write makes the task unreachable,
    /// never another grant's.
    pub(crate) async fn bind(
        &self,
        tenant: TenantId,
        server: ServerId,
        task: &CreatedTask,
        owner: TaskOwner,
    ) {
        let ttl = task
            .ttl
            .unwrap_or(DEFAULT_TTL)
            .clamp(Duration::from_secs(60), MAX_TTL);
        let value = format!("{} {}", owner.grant, owner.tool);
        self.set(Self::key(tenant, server, &task.id), value, ttl)
            .await;
    }

    /// Who created `task`, if the proxy relayed its creation.
    pub(crate) async fn owner(
        &self,
        tenant: TenantId,
        server: ServerId,
        task: &str,
    ) -> Result<Option<TaskOwner>, String> {
        let value = self.get(Self::key(tenant, server, task)).await?;
        Ok(value.and_then(|value| {
            let (grant, tool) = value.split_once(' ')?;
            Some(TaskOwner {
                grant: grant.parse().ok()?,
                tool: tool.to_owned(),
            })
        }))
    }

    fn state_key(tenant: TenantId, server: ServerId, state: &str) -> String {
        let digest = Sha256::digest(state.as_bytes());
        let mut hex = String::with_capacity(64);
        for byte in digest {
            let _ = write!(hex, "{byte:02x}");
        }
        format!("rs:{{{tenant}}}:{server}:{hex}")
    }

    /// Records that the `requestState` an upstream handed out was handed to `grant`: the
    /// upstream sees every grant's calls under the server's one credential, so it cannot
    /// tell them apart, and a state replayed by another grant must be refused here.
    pub(crate) async fn bind_state(
        &self,
        tenant: TenantId,
        server: ServerId,
        state: &str,
        grant: GrantId,
    ) {
        let key = Self::state_key(tenant, server, state);
        self.set(key, grant.to_string(), STATE_TTL).await;
    }

    /// The grant a `requestState` was handed to, if the proxy relayed it.
    pub(crate) async fn state_owner(
        &self,
        tenant: TenantId,
        server: ServerId,
        state: &str,
    ) -> Result<Option<GrantId>, String> {
        let value = self.get(Self::state_key(tenant, server, state)).await?;
        Ok(value.and_then(|grant| grant.parse().ok()))
    }

    async fn set(&self, key: String, value: String, ttl: Duration) {
        let mut connection = self.redis.connection();
        let mut command = redis::cmd("SET");
        command
            .arg(&key)
            .arg(value)
            .arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
        let set = command.query_async::<()>(&mut connection);
        match tokio::time::timeout(self.timeout, set).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "recording who a task or state belongs to failed");
            }
            Err(_) => tracing::warn!("recording who a task or state belongs to timed out"),
        }
    }

    async fn get(&self, key: String) -> Result<Option<String>, String> {
        let mut connection = self.redis.connection();
        let mut command = redis::cmd("GET");
        command.arg(key);
        let get = command.query_async::<Option<String>>(&mut connection);
        tokio::time::timeout(self.timeout, get)
            .await
            .map_err(|_| "the task registry (Redis) did not answer in time".to_owned())?
            .map_err(|error| format!("the task registry (Redis) failed: {error}"))
    }
}

/// What a `tools/call` result is, read in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultKind {
    /// It created a task: `resultType: "task"` with a `taskId` (2026-07-28 tasks
    /// extension), or a `task: {taskId}` object (2025-11-25).
    Task(CreatedTask),
    /// `resultType: "input_required"`: it waits for the client's input; the
    /// `requestState` its retry must echo, if any.
    InputRequired { state: Option<String> },
    /// Anything else: the call's result.
    Done,
}

/// Reads what `result` is.
pub(crate) fn result_kind(result: &RawValue) -> ResultKind {
    #[derive(Deserialize)]
    struct Flat {
        #[serde(rename = "resultType")]
        result_type: Option<String>,
        #[serde(rename = "taskId")]
        task_id: Option<String>,
        #[serde(rename = "ttlMs")]
        ttl_ms: Option<u64>,
        task: Option<Nested>,
        #[serde(rename = "requestState")]
        request_state: Option<String>,
    }
    #[derive(Deserialize)]
    struct Nested {
        #[serde(rename = "taskId")]
        task_id: Option<String>,
        ttl: Option<u64>,
    }
    let Ok(flat) = serde_json::from_str::<Flat>(result.get()) else {
        return ResultKind::Done;
    };
    match (flat.result_type.as_deref(), flat.task_id, flat.task) {
        (Some("task"), Some(id), _) => ResultKind::Task(CreatedTask {
            id,
            ttl: flat.ttl_ms.map(Duration::from_millis),
        }),
        (Some("input_required"), _, _) => ResultKind::InputRequired {
            state: flat.request_state,
        },
        (
            _,
            _,
            Some(Nested {
                task_id: Some(id),
                ttl,
            }),
        ) if flat.result_type.is_none() => ResultKind::Task(CreatedTask {
            id,
            ttl: ttl.map(Duration::from_millis),
        }),
        _ => ResultKind::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn task_results_of_both_eras_name_their_task() {
        let modern =
            raw(r#"{"resultType":"task","taskId":"t-1","status":"working","ttlMs":60000}"#);
        assert_eq!(
            result_kind(&modern),
            ResultKind::Task(CreatedTask {
                id: "t-1".into(),
                ttl: Some(Duration::from_secs(60))
            })
        );
        let old = raw(r#"{"task":{"taskId":"t-2","status":"working"}}"#);
        assert!(matches!(result_kind(&old), ResultKind::Task(task) if task.id == "t-2"));
        assert_eq!(result_kind(&raw(r#"{"content":[]}"#)), ResultKind::Done);
        assert_eq!(
            result_kind(&raw(r#"{"resultType":"complete","taskId":"x"}"#)),
            ResultKind::Done
        );
        assert_eq!(
            result_kind(&raw(
                r#"{"resultType":"input_required","inputRequests":{},"requestState":"s1"}"#
            )),
            ResultKind::InputRequired {
                state: Some("s1".into())
            }
        );
    }

    #[tokio::test]
    async fn a_bound_task_names_its_grant_and_tool_and_nothing_else_does() {
        let server = mcpgate_testkit::fresh_redis().await;
        let redis = mcpgate_store::connect_redis(server.url(), Duration::from_secs(5))
            .await
            .unwrap();
        let bindings = TaskBindings::new(redis, Duration::from_secs(1));
        let (tenant, server_id, grant) = (TenantId::new(), ServerId::new(), GrantId::new());
        let task = CreatedTask {
            id: "t-1".into(),
            ttl: None,
        };
        let owner = TaskOwner {
            grant,
            tool: "slow_job".into(),
        };
        bindings.bind(tenant, server_id, &task, owner.clone()).await;
        let found = bindings.owner(tenant, server_id, "t-1").await.unwrap();
        assert_eq!(found, Some(owner));
        bindings.bind_state(tenant, server_id, "s1", grant).await;
        assert_eq!(
            bindings.state_owner(tenant, server_id, "s1").await.unwrap(),
            Some(grant)
        );
        assert_eq!(
            bindings.state_owner(tenant, server_id, "s2").await.unwrap(),
            None
        );
        assert_eq!(
            bindings.owner(tenant, server_id, "t-2").await.unwrap(),
            None
        );
        assert_eq!(
            bindings
                .owner(TenantId::new(), server_id, "t-1")
                .await
                .unwrap(),
            None,
            "another tenant's task id is not this one"
        );
    }
}
