//! Calls held for approval on one replica, decided with no request on it: through the
//! change channel, or found by polling when the message is lost.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mcpgate_store::approvals::{self, Approval};
use mcpgate_store::changes::{self, Change};
use serde_json::{json, Value};

use crate::helpers::{denial_text, last_message, spawn, Options, TestProxy};

/// `k8s_delete_ns` needs a person, and is limited so the reservation can be watched.
const HELD_POLICY: &str = r#"{"version":"1","default":"allow","tools":{"k8s_delete_ns":{
    "action":"require_approval","reason":"deleting a namespace needs a person",
    "limits":[{"counter":"deletes","window":"hour","max":5}]}},
    "settings":{"approval_timeout":"3s"}}"#;

fn options(settings: fn(&mut mcpgate_proxy::ProxySettings)) -> Options {
    Options {
        policy: Some(HELD_POLICY.into()),
        settings,
        ..Options::default()
    }
}

/// Sends the held call to `addr`; the open response, after its first event, and the
/// pending approval.
async fn hold(proxy: &TestProxy, addr: SocketAddr, session: &str) -> (reqwest::Response, Approval) {
    let body = json!({"jsonrpc":"2.0","id":"held-1","method":"tools/call",
        "params":{"name":"k8s_delete_ns","arguments":{"name":"staging"}}});
    let started = Instant::now();
    let mut response = proxy
        .request_at(addr, Some(session), body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = response.chunk().await.unwrap().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "answered at once"
    );
    assert!(String::from_utf8_lossy(&first).starts_with(": held for approval "));
    let pending = approvals::list_approvals(&proxy.db.pool, proxy.tenant, Some("pending"), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    let approval = pending.into_iter().next().unwrap();
    assert_eq!(approval.tool, "k8s_delete_ns");
    assert_eq!(approval.arguments, json!({"name":"staging"}));
    assert_eq!(
        approval.reason.as_deref(),
        Some("deleting a namespace needs a person")
    );
    (response, approval)
}

async fn decide(
    proxy: &TestProxy,
    approval: &Approval,
    status: &str,
    by: &str,
    why: Option<&str>,
    announce: bool,
) {
    approvals::decide_approval(&proxy.db.pool, proxy.tenant, approval.id, status, by, why)
        .await
        .unwrap();
    if announce {
        let change = Change::Approval {
            tenant: proxy.tenant,
            approval: approval.id,
            status: status.into(),
        };
        changes::publish(&proxy.redis_conn, &change).await.unwrap();
    }
}

async fn rest(response: reqwest::Response) -> (String, Value) {
    let text = response.text().await.unwrap();
    let message = last_message(&text);
    (text, message)
}

async fn deletes_counted(proxy: &TestProxy) -> i64 {
    let mut redis = proxy.redis_conn.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rl:*deletes*")
        .query_async(&mut redis)
        .await
        .unwrap();
    let mut total = 0;
    for key in keys {
        let count: i64 = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .unwrap();
        total += count;
    }
    total
}

#[tokio::test]
async fn an_approved_call_resumes_on_its_stream_when_the_decision_is_announced() {
    // Polling is slow here, so only the change message can explain a fast resume.
    let proxy = spawn(options(|s| {
        s.approval_poll_interval = Duration::from_secs(60)
    }))
    .await;
    let other = proxy.replica().await;
    let session = proxy.initialize().await;
    let (response, approval) = hold(&proxy, proxy.addr, &session).await;
    assert_eq!(deletes_counted(&proxy).await, 1, "reserved before holding");
    // The decision comes from elsewhere (the API): no request reaches the holding proxy.
    let decided = Instant::now();
    decide(&proxy, &approval, "approved", "alice@acme.test", None, true).await;
    let (text, message) = rest(response).await;
    let resumed = decided.elapsed();
    assert!(
        resumed < Duration::from_secs(2),
        "resumed after {resumed:?}"
    );
    assert!(text.contains("event: message"), "{text}");
    assert_eq!(message["id"], "held-1");
    assert!(
        message["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("k8s_delete_ns ok"),
        "{message}"
    );
    assert!(proxy
        .demo
        .recorded()
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.body.contains("k8s_delete_ns")));
    assert_eq!(
        deletes_counted(&proxy).await,
        1,
        "an approved call keeps its reservation"
    );
    let rows = proxy.audit_rows(2).await;
    let approved = rows.iter().find(|r| r.decision == "approved").unwrap();
    assert_eq!(approved.actor.as_deref(), Some("alice@acme.test"));
    assert_eq!(approved.upstream_status, Some(200));
    assert!(rows.iter().any(|r| r.decision == "approval_required"));
    // The other replica serves the session meanwhile.
    let (_, other_call) = proxy
        .call_at(other.addr, &session, 9, "k8s_get_nodes", json!({}))
        .await;
    assert!(other_call["result"]["isError"] != true);
    eprintln!("approval announced → call resumed in {resumed:?}");
}

#[tokio::test]
async fn a_denied_call_carries_the_approvers_reason_and_releases_its_reservation() {
    let proxy = spawn(options(|_| {})).await;
    let session = proxy.initialize().await;
    let (response, approval) = hold(&proxy, proxy.addr, &session).await;
    decide(
        &proxy,
        &approval,
        "denied",
        "bob@acme.test",
        Some("not on a Friday"),
        true,
    )
    .await;
    let (_, message) = rest(response).await;
    assert_eq!(message["id"], "held-1");
    assert_eq!(
        denial_text(&message),
        "[POLICY DENIED] denied by bob@acme.test: not on a Friday"
    );
    assert_eq!(
        message["result"]["structuredContent"]["kind"],
        "approval_denied"
    );
    assert!(!proxy
        .demo
        .recorded()
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.body.contains("k8s_delete_ns")));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(deletes_counted(&proxy).await, 0);
    let rows = proxy.audit_rows(2).await;
    let denied = rows
        .iter()
        .find(|r| r.decision == "approval_denied")
        .unwrap();
    assert_eq!(denied.actor.as_deref(), Some("bob@acme.test"));
}

#[tokio::test]
async fn a_decision_whose_message_is_lost_is_found_by_polling() {
    let proxy = spawn(options(|s| {
        s.approval_poll_interval = Duration::from_millis(300)
    }))
    .await;
    let session = proxy.initialize().await;
    let (response, approval) = hold(&proxy, proxy.addr, &session).await;
    decide(
        &proxy,
        &approval,
        "approved",
        "carol@acme.test",
        None,
        false,
    )
    .await;
    let (_, message) = rest(response).await;
    assert!(
        message["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("k8s_delete_ns ok"),
        "{message}"
    );
}

#[tokio::test]
async fn an_undecided_call_times_out_and_its_approval_expires() {
    let proxy = spawn(options(|s| {
        s.approval_keep_alive = Duration::from_millis(500)
    }))
    .await;
    let session = proxy.initialize().await;
    let started = Instant::now();
    let (response, approval) = hold(&proxy, proxy.addr, &session).await;
    let (text, message) = rest(response).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    assert!(text.matches(": keep-alive").count() >= 3, "{text}");
    assert_eq!(
        denial_text(&message),
        "[POLICY DENIED] approval timed out after 3s; nobody approved the call"
    );
    assert_eq!(
        message["result"]["structuredContent"]["kind"],
        "approval_expired"
    );
    let row = approvals::approval(&proxy.db.pool, proxy.tenant, approval.id)
        .await
        .unwrap();
    assert_eq!(row.status, "expired");
    assert_eq!(row.decided_by.as_deref(), Some("mcpgate"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(deletes_counted(&proxy).await, 0);
    let rows = proxy.audit_rows(2).await;
    assert!(rows.iter().any(|r| r.decision == "approval_expired"));
}
