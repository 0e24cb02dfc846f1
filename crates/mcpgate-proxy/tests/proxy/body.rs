use serde_json::Value;

use crate::helpers::{spawn, Options};

#[tokio::test]
async fn an_oversized_body_is_413() {
    let proxy = spawn(Options {
        settings: |settings| settings.max_body_bytes = 1024,
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"k8s_run_pod","arguments":{{"image":"{}"}}}}}}"#,
        "x".repeat(2048)
    );
    let response = proxy.post(Some(&session), big).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600);
}

#[tokio::test]
async fn malformed_json_is_a_parse_error() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let response = proxy
        .post(Some(&session), r#"{"jsonrpc":"2.0","id":1,"#)
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32700);
    assert_eq!(body["id"], Value::Null);
}

#[tokio::test]
async fn duplicate_keys_are_refused_and_never_reach_the_upstream() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let smuggled = r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"k8s_run_pod","name":"k8s_delete_ns","arguments":{}}}"#;
    let response = proxy.post(Some(&session), smuggled).await;
    assert_eq!(
        response.status(),
        200,
        "the id is unambiguous, so the answer is for it"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["id"], 4);
    assert_eq!(body["error"]["code"], -32600);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ambiguous"));

    let ambiguous_id = r#"{"jsonrpc":"2.0","id":4,"id":5,"method":"tools/call","params":{}}"#;
    let response = proxy.post(Some(&session), ambiguous_id).await;
    assert_eq!(response.status(), 400);

    let recorded = proxy.demo.recorded();
    assert!(!recorded
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.body.contains("k8s_delete_ns")));
}
