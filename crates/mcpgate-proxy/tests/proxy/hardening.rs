//! Issue 11's promises on the request side: batches are bounded, slow bodies time out,
//! a held call re-checks its grant before it runs, and methods besides `tools/call` are
//! decided by the policy.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use mcpgate_store::approvals;
use mcpgate_store::changes::{self, Change};
use mcpgate_store::grants;
use serde_json::{json, Value};

use crate::helpers::{last_message, spawn, Options, TestProxy};

#[tokio::test]
async fn a_batch_over_the_limit_is_refused_before_anything_is_decided() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let call = |id: usize| {
        json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":"k8s_run_pod","arguments":{"image":"a"}}})
    };
    let batch: Vec<Value> = (0..101).map(call).collect();
    let response = proxy
        .post(Some(&session), Value::from(batch).to_string())
        .await;
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], -32600);
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("101 messages is over the limit of 100"));
    // A batch at the limit is still served (and every call decided: the seed policy
    // admits 10 a minute, so it is answered whole with refusals).
    let batch: Vec<Value> = (0..100).map(call).collect();
    let response = proxy
        .post(Some(&session), Value::from(batch).to_string())
        .await;
    assert_eq!(response.status(), 200);
    let answers: Vec<Value> = response.json().await.unwrap();
    assert_eq!(answers.len(), 100);
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408_after_the_read_timeout() {
    let proxy = spawn(Options {
        settings: |settings| settings.body_read_timeout = Duration::from_millis(300),
        ..Options::default()
    })
    .await;
    let addr = proxy.addr;
    let token = proxy.token.clone();
    let path = format!("/mcp/{}/", proxy.server);
    let started = Instant::now();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n\
             content-type: application/json\r\naccept: application/json, text/event-stream\r\n\
             content-length: 1000\r\n\r\n{{\"jsonrpc\""
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut answer = vec![0; 4096];
        let read = stream.read(&mut answer).unwrap();
        String::from_utf8_lossy(&answer[..read]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

/// `k8s_delete_ns` needs a person.
const HELD_POLICY: &str = r#"{"version":"1","default":"allow","tools":{"k8s_delete_ns":{
    "action":"require_approval","reason":"deleting a namespace needs a person"}},
    "settings":{"approval_timeout":"20s"}}"#;

async fn held_call(proxy: &TestProxy, session: &str) -> (reqwest::Response, approvals::Approval) {
    let body = json!({"jsonrpc":"2.0","id":"held","method":"tools/call",
        "params":{"name":"k8s_delete_ns","arguments":{"name":"staging"}}});
    let mut response = proxy.post(Some(session), body.to_string()).await;
    assert_eq!(response.status(), 200);
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with(": held for approval "));
    let pending = approvals::list_approvals(&proxy.db.pool, proxy.tenant, Some("pending"), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    (response, pending.into_iter().next().unwrap())
}

async fn approve(proxy: &TestProxy, approval: &approvals::Approval) {
    approvals::decide_approval(
        &proxy.db.pool,
        proxy.tenant,
        approval.id,
        "approved",
        "ada",
        None,
    )
    .await
    .unwrap();
    let change = Change::Approval {
        tenant: proxy.tenant,
        approval: approval.id,
        status: "approved".into(),
    };
    changes::publish(&proxy.redis_conn, &change).await.unwrap();
}

#[tokio::test]
async fn a_held_call_approved_after_its_grant_was_revoked_does_not_run() {
    let proxy = spawn(Options {
        policy: Some(HELD_POLICY.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (response, approval) = held_call(&proxy, &session).await;
    grants::revoke_grant(&proxy.db.pool, proxy.tenant, proxy.grant)
        .await
        .unwrap();
    let change = Change::Grant {
        tenant: proxy.tenant,
        grant: proxy.grant,
    };
    changes::publish(&proxy.redis_conn, &change).await.unwrap();
    approve(&proxy, &approval).await;
    let text = tokio::time::timeout(Duration::from_secs(10), response.text())
        .await
        .expect("the held call is answered")
        .unwrap();
    let answer = last_message(&text);
    let denial = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        denial.contains("approved by ada, but the grant was revoked"),
        "{answer}"
    );
    let ran = proxy
        .demo
        .recorded()
        .lock()
        .unwrap()
        .iter()
        .any(|call| call.body.contains("k8s_delete_ns"));
    assert!(!ran, "the upstream never saw the call");
}

#[tokio::test]
async fn a_held_call_approved_after_the_policy_began_to_deny_it_does_not_run() {
    let proxy = spawn(Options {
        policy: Some(HELD_POLICY.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (response, approval) = held_call(&proxy, &session).await;
    let denying = r#"{"version":"1","default":"allow","tools":{
        "k8s_delete_ns":{"action":"deny","reason":"namespaces are frozen"},
        "k8s_run_pod":{"action":"deny","reason":"the new policy is active"}}}"#;
    mcpgate_store::policies::add_policy_version(
        &proxy.db.pool,
        proxy.tenant,
        proxy.server,
        denying,
        "test",
        None,
    )
    .await
    .unwrap();
    let change = Change::Server {
        tenant: proxy.tenant,
        server: proxy.server,
    };
    changes::publish(&proxy.redis_conn, &change).await.unwrap();
    // The proxy reloads the server on the message: wait until the new policy answers
    // (asked with a tool the old one allows at once, so nothing else is held).
    for attempt in 0.. {
        let (_, answer) = proxy
            .call(&session, 900 + attempt, "k8s_run_pod", json!({"image":"x"}))
            .await;
        if answer.to_string().contains("the new policy is active") {
            break;
        }
        assert!(attempt < 50, "the new policy never took effect");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    approve(&proxy, &approval).await;
    let text = tokio::time::timeout(Duration::from_secs(10), response.text())
        .await
        .expect("the held call is answered")
        .unwrap();
    let answer = last_message(&text);
    assert!(
        answer
            .to_string()
            .contains("approved by ada, but namespaces are frozen"),
        "{answer}"
    );
}

/// `prompts/get` and `resources/read` through the demo server, decided by `methods`.
const METHOD_POLICY: &str = r#"{"version":"1","default":"deny",
    "tools":{"k8s_run_pod":{}},
    "methods":{
      "resources/read":{"require":[{"path":"args.uri","op":"prefix","value":"k8s://public/"}],
                        "reason":"only public resources",
                        "limits":[{"counter":"reads","window":"hour","max":2}]},
      "prompts/get":{"action":"deny","reason":"prompts are off"}}}"#;

async fn send(proxy: &TestProxy, session: &str, body: Value) -> (u16, Value) {
    let response = proxy.post(Some(session), body.to_string()).await;
    let status = response.status().as_u16();
    (status, last_message(&response.text().await.unwrap()))
}

#[tokio::test]
async fn methods_other_than_tools_call_are_decided_by_the_policy() {
    let proxy = spawn(Options {
        policy: Some(METHOD_POLICY.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let read = |id: u64, uri: &str| json!({"jsonrpc":"2.0","id":id,"method":"resources/read","params":{"uri":uri}});
    // Refused by the condition, with a JSON-RPC error (no tool result fits a read).
    let (status, answer) = send(&proxy, &session, read(1, "k8s://secret/x")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["error"]["code"], -32001, "{answer}");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("[POLICY DENIED]"));
    // Allowed reads reach the upstream, two a minute.
    let mut reached = 0;
    for id in 2..6 {
        let (_, answer) = send(&proxy, &session, read(id, "k8s://public/a")).await;
        if answer["error"]["code"] != -32002 {
            reached += 1;
        } else {
            assert!(answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Rate limit exceeded"));
        }
    }
    assert_eq!(reached, 2);
    let (_, answer) = send(
        &proxy,
        &session,
        json!({"jsonrpc":"2.0","id":7,"method":"prompts/get","params":{"name":"p"}}),
    )
    .await;
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("prompts are off"));
    // Governed methods the policy does not name follow its default (deny here).
    let (_, answer) = send(
        &proxy,
        &session,
        json!({"jsonrpc":"2.0","id":8,"method":"completion/complete",
            "params":{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":"b"}}}),
    )
    .await;
    assert_eq!(answer["error"]["code"], -32001, "{answer}");
    // Unknown methods are refused; plumbing still passes.
    let (_, answer) = send(
        &proxy,
        &session,
        json!({"jsonrpc":"2.0","id":9,"method":"admin/exec","params":{}}),
    )
    .await;
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown method"));
    let (_, answer) = send(
        &proxy,
        &session,
        json!({"jsonrpc":"2.0","id":10,"method":"ping"}),
    )
    .await;
    assert!(answer.get("result").is_some(), "{answer}");
    // A governed method sent as a notification would reach the upstream unchecked.
    let response = proxy
        .post(
            Some(&session),
            json!({"jsonrpc":"2.0","method":"resources/read","params":{"uri":"k8s://secret/x"}})
                .to_string(),
        )
        .await;
    assert_eq!(response.status(), 400);
    let rows = proxy.audit_rows(8).await;
    let reads: Vec<_> = rows
        .iter()
        .filter(|row| row.method == "resources/read")
        .collect();
    assert_eq!(reads.len(), 5, "every read decided is audited");
    assert!(reads
        .iter()
        .any(|row| row.tool.as_deref() == Some("k8s://secret/x") && row.decision == "deny"));
}

#[tokio::test]
async fn a_grant_holds_no_more_calls_and_streams_than_its_caps() {
    let proxy = spawn(Options {
        policy: Some(HELD_POLICY.into()),
        settings: |settings| {
            settings.max_held_calls_per_grant = 1;
            settings.max_streams_per_grant = 1;
        },
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (held, _) = held_call(&proxy, &session).await;
    let (status, answer) = proxy
        .call(&session, 2, "k8s_delete_ns", json!({"name":"other"}))
        .await;
    assert_eq!(status, 200);
    assert!(
        answer["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("already has 1 calls waiting for approval"),
        "{answer}"
    );
    // The held call's stream closes: its slot comes back.
    drop(held);
    let mut freed = false;
    for _ in 0..50 {
        let body = json!({"jsonrpc":"2.0","id":"again","method":"tools/call",
            "params":{"name":"k8s_delete_ns","arguments":{"name":"staging"}}});
        let mut response = proxy.post(Some(&session), body.to_string()).await;
        let first = response.chunk().await.unwrap().unwrap_or_default();
        if String::from_utf8_lossy(&first).starts_with(": held for approval ") {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(freed, "the slot of a closed held call is given back");

    let open = || {
        proxy
            .client
            .get(proxy.url())
            .bearer_auth(&proxy.token)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &session)
            .header("mcp-protocol-version", "2025-06-18")
            .send()
    };
    let first = open().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = open().await.unwrap();
    assert_eq!(second.status(), 429);
    let body: Value = second.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already keeps 1 streams open"));
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let proxy = spawn(Options {
        settings: |settings| settings.metrics_token = Some("scrape-me".into()),
        ..Options::default()
    })
    .await;
    let url = format!("http://{}/metrics", proxy.addr);
    let anonymous = proxy.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = proxy
        .client
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let scraped = proxy
        .client
        .get(&url)
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped
        .text()
        .await
        .unwrap()
        .contains("mcpgate_proxy_audit_dropped_total"));
}

#[tokio::test]
async fn an_approval_row_shows_the_arguments_with_their_secrets_redacted() {
    let proxy = spawn(Options {
        policy: Some(HELD_POLICY.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let body = json!({"jsonrpc":"2.0","id":"held","method":"tools/call",
        "params":{"name":"k8s_delete_ns","arguments":{"name":"staging","api_token":"s3cr3t",
            "env":[{"name":"DB_PASSWORD","value":"hunter2"}]}}});
    let mut response = proxy.post(Some(&session), body.to_string()).await;
    let first = response.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).starts_with(": held for approval "));
    let pending = approvals::list_approvals(&proxy.db.pool, proxy.tenant, Some("pending"), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let arguments = &pending[0].arguments;
    assert_eq!(
        arguments["name"], "staging",
        "what a person needs to judge is kept"
    );
    assert_eq!(arguments["api_token"], "[REDACTED]");
    assert_eq!(arguments["env"][0]["value"], "[REDACTED]");
    assert!(!arguments.to_string().contains("s3cr3t"));
    assert!(!arguments.to_string().contains("hunter2"));
}
