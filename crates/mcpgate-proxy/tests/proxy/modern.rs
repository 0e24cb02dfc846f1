//! MCP 2026-07-28 through the proxy (issue 12): stateless requests, mirrored headers
//! checked and forwarded, lists private to their caller, multi round-trip calls counted
//! once, tasks bound to their grant, `subscriptions/listen` relayed. The upstream is the
//! front playing a modern server.

use std::time::Duration;

use serde_json::{json, Value};

use crate::front::{front, Behaviour, Seen};
use crate::helpers::{add_server, last_message, spawn, Options, TestProxy};

/// A 2026-07-28 request: the `_meta` envelope in the body, the mirrors in headers.
fn modern(
    proxy: &TestProxy,
    token: &str,
    id: u64,
    method: &str,
    name: Option<&str>,
    params: Value,
) -> reqwest::RequestBuilder {
    let capabilities = json!({"elicitation": {}});
    modern_with(proxy, token, id, method, name, params, capabilities)
}

/// [`modern`] with the client capabilities given.
fn modern_with(
    proxy: &TestProxy,
    token: &str,
    id: u64,
    method: &str,
    name: Option<&str>,
    mut params: Value,
    capabilities: Value,
) -> reqwest::RequestBuilder {
    params["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities});
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let mut request = proxy
        .client
        .post(proxy.url())
        .bearer_auth(token)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method)
        .body(body.to_string());
    if let Some(name) = name {
        request = request.header("mcp-name", name);
    }
    request
}

async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, last_message(&response.text().await.unwrap()))
}

/// Sends `request(id)` for ids from `first` on until `done` holds on the answer (at most
/// 100 times, 30 ms apart: a decision or a background step may take a moment); the last
/// answer.
async fn until(
    first: u64,
    mut request: impl FnMut(u64) -> reqwest::RequestBuilder,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for id in first..first + 100 {
        last = answer(request(id)).await.1;
        if done(&last) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    last
}

fn run_pod(proxy: &TestProxy, id: u64) -> reqwest::RequestBuilder {
    modern(
        proxy,
        &proxy.token,
        id,
        "tools/call",
        Some("k8s_run_pod"),
        json!({"name": "k8s_run_pod", "arguments": {"image": "nginx"}}),
    )
}

fn seen_methods(seen: &Seen) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(m, _)| m.clone())
        .collect()
}

#[tokio::test]
async fn a_modern_call_needs_no_session_and_its_headers_reach_the_upstream() {
    let proxy = spawn(Options::default()).await;
    let seen = front(&proxy, Behaviour::Modern).await;
    let (status, answer) = answer(
        run_pod(&proxy, 1)
            .header("mcp-param-image", "nginx")
            .header(
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["content"][0]["text"], "ran k8s_run_pod");
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "one request upstream");
    let (method, headers) = &seen[0];
    assert_eq!(method, "tools/call");
    assert_eq!(headers["mcp-protocol-version"], "2026-07-28");
    assert_eq!(headers["mcp-method"], "tools/call");
    assert_eq!(headers["mcp-name"], "k8s_run_pod");
    assert_eq!(headers["mcp-param-image"], "nginx");
    assert!(headers.contains_key("traceparent"));
    assert!(!headers.contains_key("mcp-session-id"));
    let authorization = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_ne!(authorization, Some(format!("Bearer {}", proxy.token)));
}

#[tokio::test]
async fn a_header_that_disagrees_with_the_body_is_refused_before_anything_is_decided() {
    let proxy = spawn(Options::default()).await;
    let seen = front(&proxy, Behaviour::Modern).await;
    let body_says_run_pod = modern(
        &proxy,
        &proxy.token,
        1,
        "tools/call",
        Some("k8s_delete_ns"),
        json!({"name": "k8s_run_pod", "arguments": {}}),
    );
    let (status, refused) = answer(body_says_run_pod).await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["code"], -32020, "{refused}");
    assert_eq!(refused["id"], 1);
    let no_name = modern(
        &proxy,
        &proxy.token,
        2,
        "tools/call",
        None,
        json!({"name": "k8s_run_pod", "arguments": {}}),
    );
    let (status, refused) = answer(no_name).await;
    assert_eq!(status, 400);
    assert_eq!(refused["error"]["code"], -32020);
    let wrong_method = run_pod(&proxy, 3).header("mcp-method", "tools/list");
    let (status, refused) = answer(wrong_method).await;
    assert_eq!(status, 400, "a repeated Mcp-Method is refused: {refused}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing reached the upstream"
    );
}

#[tokio::test]
async fn a_modern_tool_list_is_filtered_and_private_to_its_caller() {
    let proxy = spawn(Options::default()).await;
    front(&proxy, Behaviour::Modern).await;
    let (status, list) = answer(modern(
        &proxy,
        &proxy.token,
        1,
        "tools/list",
        None,
        json!({}),
    ))
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["k8s_run_pod"]);
    assert_eq!(list["result"]["cacheScope"], "private");
    assert_eq!(list["result"]["ttlMs"], 60000);
    assert_eq!(list["result"]["resultType"], "complete");
}

/// k8s_run_pod at most twice an hour (no window ends mid-test).
const TWICE: &str = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"runs","window":"hour","max":2,"scope":"grant"}]}}}"#;

#[tokio::test]
async fn a_call_that_asks_for_input_is_counted_once_when_it_completes() {
    let proxy = spawn(Options {
        policy: Some(TWICE.into()),
        ..Options::default()
    })
    .await;
    let seen = front(&proxy, Behaviour::ModernInputRequired).await;
    let retry = |id: u64| {
        modern(
            &proxy,
            &proxy.token,
            id,
            "tools/call",
            Some("k8s_run_pod"),
            json!({"name": "k8s_run_pod", "arguments": {"image": "nginx"},
                "inputResponses": {"confirm": {"action": "accept", "content": {}}},
                "requestState": "s1"}),
        )
    };
    for round in 0..2 {
        let (_, first) = answer(run_pod(&proxy, 10 + round)).await;
        assert_eq!(first["result"]["resultType"], "input_required", "{first}");
        assert_eq!(
            first["result"]["requestState"], "s1",
            "passed through untouched"
        );
        let (_, done) = answer(retry(20 + round)).await;
        assert_eq!(
            done["result"]["content"][0]["text"], "ran k8s_run_pod",
            "{done}"
        );
    }
    // Two completed calls: the limit is reached, whatever the interim rounds were.
    let (_, third) = answer(run_pod(&proxy, 30)).await;
    assert_eq!(third["result"]["isError"], true, "{third}");
    assert!(third["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Rate limit exceeded"));
    assert_eq!(
        seen_methods(&seen).len(),
        4,
        "the refused call never went upstream"
    );
}

#[tokio::test]
async fn a_task_answers_only_the_grant_that_created_it() {
    let proxy = spawn(Options::default()).await;
    front(&proxy, Behaviour::ModernTasks).await;
    let (_, created) = answer(run_pod(&proxy, 7)).await;
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    let task = created["result"]["taskId"].as_str().unwrap().to_owned();
    let get = |token: &str, id: u64, task: &str| {
        modern(
            &proxy,
            token,
            id,
            "tasks/get",
            Some(task),
            json!({"taskId": task}),
        )
    };
    // The upstream completes the task by the time it is asked.
    let fetched = until(
        100,
        |id| get(&proxy.token, id, &task),
        |answer| answer["result"]["status"] == "completed",
    )
    .await;
    assert_eq!(
        fetched["result"]["result"]["content"][0]["text"], "task done",
        "{fetched}"
    );
    // Another grant of the same tenant, which may call this server.
    let (_, other_token) = add_server(&proxy, &proxy.demo, crate::helpers::SEED_POLICY).await;
    let (_, refused) = answer(get(&other_token, 200, &task)).await;
    assert_eq!(refused["error"]["code"], -32001, "{refused}");
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("was not created through this grant"));
    let (_, unknown) = answer(get(&proxy.token, 201, "task-nobody-made")).await;
    assert_eq!(unknown["error"]["code"], -32001, "{unknown}");
}

#[tokio::test]
async fn subscriptions_listen_is_relayed_as_a_stream_and_its_list_changed_asks_for_a_re_sync() {
    use futures_util::StreamExt;
    let proxy = spawn(Options::default()).await;
    let mut changes = Box::pin(
        mcpgate_store::changes::subscribe(&proxy.redis_conn)
            .await
            .unwrap(),
    );
    front(&proxy, Behaviour::Modern).await;
    let response = modern(
        &proxy,
        &proxy.token,
        5,
        "subscriptions/listen",
        None,
        json!({"notifications": {"toolsListChanged": true}}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("notifications/tools/list_changed") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("the stream carries the notifications")
            .expect("and stays open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        text.contains("notifications/subscriptions/acknowledged"),
        "{text}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let change = tokio::time::timeout_at(deadline, changes.next())
            .await
            .expect("a re-sync request")
            .unwrap();
        if let mcpgate_store::changes::Change::SyncRequested { reason, .. } = change {
            assert!(reason.contains("list_changed"), "{reason}");
            break;
        }
    }
}

#[tokio::test]
async fn a_modern_client_is_bridged_to_a_handshake_only_upstream() {
    let proxy = spawn(Options::default()).await;
    let seen = front(&proxy, Behaviour::HandshakeOnly).await;
    // As discovery records an upstream that speaks only the handshake era.
    sqlx::query("UPDATE servers SET protocol_version = '2025-06-18' WHERE id = $1")
        .bind(proxy.server.as_uuid())
        .execute(&proxy.db.pool)
        .await
        .unwrap();
    mcpgate_store::changes::publish(
        &proxy.redis_conn,
        &mcpgate_store::changes::Change::Server {
            tenant: proxy.tenant,
            server: proxy.server,
        },
    )
    .await
    .unwrap();
    let mut discovered = Value::Null;
    for attempt in 0..50 {
        let (status, answer) = answer(modern(
            &proxy,
            &proxy.token,
            attempt,
            "server/discover",
            None,
            json!({}),
        ))
        .await;
        discovered = answer;
        if status == 200 && discovered.get("result").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        discovered["result"]["supportedVersions"],
        json!(["2026-07-28"]),
        "{discovered}"
    );
    assert!(discovered["result"]["capabilities"]["tools"].is_object());
    let (_, list) = answer(modern(
        &proxy,
        &proxy.token,
        60,
        "tools/list",
        None,
        json!({}),
    ))
    .await;
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["k8s_run_pod"]);
    let (_, ran) = answer(run_pod(&proxy, 61)).await;
    assert_ne!(ran["result"]["isError"], true, "{ran}");
    assert!(ran["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("k8s_run_pod"));
    let seen = seen.lock().unwrap();
    let bridged: Vec<_> = seen
        .iter()
        .filter(|(method, _)| method == "tools/call" || method == "tools/list")
        .collect();
    assert_eq!(
        bridged.len(),
        2,
        "{:?}",
        seen.iter().map(|(m, _)| m).collect::<Vec<_>>()
    );
    for (_, headers) in bridged {
        assert!(
            headers.contains_key("mcp-session-id"),
            "sent on the bridged session"
        );
        assert_ne!(headers["mcp-protocol-version"], "2026-07-28");
    }
}

/// k8s_run_pod needs a person.
const HELD: &str = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"action":"require_approval","reason":"pods need a person"}},"settings":{"approval_timeout":"30s"}}"#;

#[tokio::test]
async fn a_held_call_is_a_task_for_a_client_that_declares_tasks() {
    let proxy = spawn(Options {
        policy: Some(HELD.into()),
        ..Options::default()
    })
    .await;
    let seen = front(&proxy, Behaviour::Modern).await;
    let with_tasks = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    let call = |id: u64| {
        modern_with(
            &proxy,
            &proxy.token,
            id,
            "tools/call",
            Some("k8s_run_pod"),
            json!({"name": "k8s_run_pod", "arguments": {"image": "nginx"}}),
            with_tasks.clone(),
        )
    };
    let started = std::time::Instant::now();
    let (status, created) = answer(call(1)).await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered at once"
    );
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    assert_eq!(created["result"]["status"], "working");
    let task = created["result"]["taskId"].as_str().unwrap().to_owned();
    assert!(task.starts_with("mcpgate-approval-"), "{task}");
    let poll = |id: u64, method: &'static str, task: String| {
        modern(
            &proxy,
            &proxy.token,
            id,
            method,
            Some(&task),
            json!({"taskId": task.clone()}),
        )
    };
    // Pending: working, and nothing reached the upstream.
    let working = until(
        10,
        |id| poll(id, "tasks/get", task.clone()),
        |answer| answer["result"]["status"] == "working",
    )
    .await;
    assert_eq!(working["result"]["status"], "working", "{working}");
    assert!(!seen_methods(&seen).contains(&"tools/call".to_owned()));
    // Approved: the call runs, and its result is the task's.
    let pending =
        mcpgate_store::approvals::list_approvals(&proxy.db.pool, proxy.tenant, Some("pending"), 10)
            .await
            .unwrap();
    assert_eq!(pending.len(), 1);
    mcpgate_store::approvals::decide_approval(
        &proxy.db.pool,
        proxy.tenant,
        pending[0].id,
        "approved",
        "ada",
        None,
    )
    .await
    .unwrap();
    let done = until(
        100,
        |id| poll(id, "tasks/get", task.clone()),
        |answer| answer["result"]["status"] == "completed",
    )
    .await;
    assert_eq!(done["result"]["status"], "completed", "{done}");
    assert_eq!(
        done["result"]["result"]["content"][0]["text"],
        "ran k8s_run_pod"
    );
    // Another grant cannot read it.
    let (_, other_token) = add_server(&proxy, &proxy.demo, crate::helpers::SEED_POLICY).await;
    let (_, refused) = answer(modern(
        &proxy,
        &other_token,
        300,
        "tasks/get",
        Some(&task),
        json!({"taskId": task.clone()}),
    ))
    .await;
    assert_eq!(refused["error"]["code"], -32001, "{refused}");

    // A second held call, cancelled by the client: it never runs.
    let (_, second) = answer(call(2)).await;
    let second = second["result"]["taskId"].as_str().unwrap().to_owned();
    let acked = until(
        400,
        |id| poll(id, "tasks/cancel", second.clone()),
        |answer| answer["result"]["resultType"] == "complete",
    )
    .await;
    assert_eq!(acked["result"]["resultType"], "complete", "{acked}");
    let cancelled = until(
        500,
        |id| poll(id, "tasks/get", second.clone()),
        |answer| answer["result"]["status"] == "completed",
    )
    .await;
    assert_eq!(
        cancelled["result"]["result"]["isError"], true,
        "{cancelled}"
    );
    assert!(cancelled["result"]["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("cancelled by the client"));
    let calls = seen_methods(&seen)
        .into_iter()
        .filter(|m| m == "tools/call")
        .count();
    assert_eq!(calls, 1, "only the approved call ran");
}

#[tokio::test]
async fn a_request_state_answers_only_the_grant_it_was_handed_to() {
    let proxy = spawn(Options::default()).await;
    front(&proxy, Behaviour::ModernInputRequired).await;
    let (_, other_token) = add_server(&proxy, &proxy.demo, crate::helpers::SEED_POLICY).await;
    let retry = |token: &str, id: u64| {
        modern(
            &proxy,
            token,
            id,
            "tools/call",
            Some("k8s_run_pod"),
            json!({"name": "k8s_run_pod", "arguments": {"image": "nginx"},
                "inputResponses": {"confirm": {"action": "accept", "content": {}}},
                "requestState": "s1"}),
        )
    };
    // Never handed out: refused before it reaches the upstream.
    let (_, unknown) = answer(retry(&proxy.token, 1)).await;
    assert!(
        unknown.to_string().contains("was not handed to this grant"),
        "{unknown}"
    );
    let (_, first) = answer(run_pod(&proxy, 2)).await;
    assert_eq!(first["result"]["requestState"], "s1", "{first}");
    // Another grant replaying the state is refused; the grant it was handed to goes on.
    let (_, replayed) = answer(retry(&other_token, 3)).await;
    assert!(
        replayed
            .to_string()
            .contains("was not handed to this grant"),
        "{replayed}"
    );
    let (_, done) = answer(retry(&proxy.token, 4)).await;
    assert_eq!(
        done["result"]["content"][0]["text"], "ran k8s_run_pod",
        "{done}"
    );
}

#[tokio::test]
async fn prompt_and_resource_lists_show_only_what_the_grant_may_read() {
    let policy = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{}},
        "methods":{
          "prompts/get":{"deny_if":[{"path":"args.name","op":"eq","value":"secret_prompt"}]},
          "resources/read":{"require":[{"path":"args.uri","op":"prefix","value":"k8s://public/"}]}}}"#;
    let proxy = spawn(Options {
        policy: Some(policy.into()),
        ..Options::default()
    })
    .await;
    front(&proxy, Behaviour::Modern).await;
    let (_, prompts) = answer(modern(
        &proxy,
        &proxy.token,
        1,
        "prompts/list",
        None,
        json!({}),
    ))
    .await;
    assert_eq!(
        prompts["result"]["prompts"],
        json!([{"name": "greet"}]),
        "{prompts}"
    );
    assert_eq!(prompts["result"]["cacheScope"], "private");
    let (_, resources) = answer(modern(
        &proxy,
        &proxy.token,
        2,
        "resources/list",
        None,
        json!({}),
    ))
    .await;
    assert_eq!(
        resources["result"]["resources"],
        json!([{"uri": "k8s://public/a", "name": "a"}]),
        "{resources}"
    );
    assert_eq!(resources["result"]["ttlMs"], 1000);
}
