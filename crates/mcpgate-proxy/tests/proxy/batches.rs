//! JSON-RPC batches (protocol 2025-03-26): every call in them is enforced, and a batch
//! with a refused call is answered whole without reaching the upstream.

use serde_json::{json, Value};

use crate::helpers::{spawn, Options};

#[tokio::test]
async fn a_batch_of_allowed_calls_is_forwarded_whole_and_every_call_is_audited() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"k8s_run_pod","arguments":{"image":"a"}}},
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"k8s_run_pod","arguments":{"image":"b"}}}
    ]);
    let response = proxy.post(Some(&session), batch.to_string()).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert_eq!(text.matches("k8s_run_pod ok").count(), 2, "{text}");
    let rows = proxy.audit_rows(2).await;
    assert!(rows.iter().all(|row| row.decision == "allow"));
}

#[tokio::test]
async fn a_batch_with_a_refused_call_is_answered_whole_and_nothing_reaches_the_upstream() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let recorded_before = proxy.demo.recorded().lock().unwrap().len();
    let batch = json!([
        {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"k8s_run_pod","arguments":{}}},
        {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"k8s_delete_ns","arguments":{"name":"prod"}}},
        {"jsonrpc":"2.0","id":3,"method":"ping"},
        {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}
    ]);
    let response = proxy.post(Some(&session), batch.to_string()).await;
    assert_eq!(response.status(), 200);
    let answers: Vec<Value> = response.json().await.unwrap();
    assert_eq!(answers.len(), 3, "one answer per request: {answers:?}");
    assert_eq!(answers[0]["id"], 1);
    assert!(answers[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not run: another call in the same batch was refused"));
    assert_eq!(answers[1]["id"], 2);
    assert_eq!(answers[1]["result"]["isError"], true);
    assert_eq!(answers[1]["result"]["structuredContent"]["kind"], "policy");
    assert_eq!(answers[2]["id"], 3);
    assert_eq!(
        proxy.demo.recorded().lock().unwrap().len(),
        recorded_before,
        "nothing was forwarded"
    );
    // The allowed call's reservation was given back.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut redis = proxy.redis_conn.connection();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("rl:*")
        .query_async(&mut redis)
        .await
        .unwrap();
    for key in keys {
        let count: i64 = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .unwrap();
        assert_eq!(count, 0, "{key}");
    }
    let rows = proxy.audit_rows(2).await;
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn a_batch_with_tools_list_and_a_call_without_an_id_are_refused() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let batch = json!([{"jsonrpc":"2.0","id":1,"method":"tools/list"}]);
    let response = proxy.post(Some(&session), batch.to_string()).await;
    assert_eq!(response.status(), 400);
    let notification = json!({"jsonrpc":"2.0","method":"tools/call","params":{"name":"k8s_delete_ns","arguments":{}}});
    let response = proxy.post(Some(&session), notification.to_string()).await;
    assert_eq!(response.status(), 400);
    assert!(!proxy
        .demo
        .recorded()
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.body.contains("k8s_delete_ns")));
}
