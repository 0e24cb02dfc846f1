//! Hostile agents and hostile upstreams (issue 11): ids spelled another way, lists passed
//! under another id, answers without end. The upstream here is a front that sits before
//! the demo server and re-serialises every answer through a JSON value, as an upstream
//! built on an SDK does (the demo server echoes id bytes as sent, which hides the bug).

use std::time::Duration;

use mcpgate_store::changes::Change;
use serde_json::{json, Value};

use crate::front::{front, Behaviour};
use crate::helpers::{last_message, spawn, Options, TestProxy};

/// A limit of 3 an hour, so a bypass shows quickly (and no window ends mid-test).
const THREE_AN_HOUR: &str = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"k8s_run_pod_rate","window":"hour","max":3,"scope":"grant"}]}}}"#;

async fn call_with_id(proxy: &TestProxy, session: &str, id: &str) -> Value {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"k8s_run_pod","arguments":{{"image":"nginx"}}}}}}"#
    );
    let response = proxy.post(Some(session), body).await;
    assert_eq!(response.status(), 200);
    last_message(&response.text().await.unwrap())
}

#[tokio::test]
async fn a_respelled_request_id_does_not_give_back_the_reservation() {
    let proxy = spawn(Options {
        policy: Some(THREE_AN_HOUR.into()),
        ..Options::default()
    })
    .await;
    front(&proxy, Behaviour::Reserialize).await;
    let session = proxy.initialize().await;
    let mut ran = 0;
    for _ in 0..8 {
        let answer = call_with_id(&proxy, &session, r#""\u0031""#).await;
        // Precondition: the front really re-spelled the id.
        assert_eq!(answer["id"], "1", "{answer}");
        if answer["result"]["isError"] != true {
            ran += 1;
        }
    }
    assert_eq!(ran, 3, "8 calls against max 3 a minute");
}

#[tokio::test]
async fn numeric_ids_that_are_not_integers_are_refused() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    for id in ["1.0", "1e0"] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"k8s_run_pod","arguments":{{}}}}}}"#
        );
        let response = proxy.post(Some(&session), body).await;
        assert_eq!(response.status(), 400, "id {id}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], -32600, "{answer}");
    }
}

/// The tool names in a `tools/list` answer (an SSE body may hold several answers).
fn listed(text: &str) -> Vec<Vec<String>> {
    text.split("\n\n")
        .filter(|event| event.contains("data:"))
        .map(|event| {
            let message = last_message(event);
            message["result"]["tools"]
                .as_array()
                .map(|tools| {
                    tools
                        .iter()
                        .map(|tool| tool["name"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn a_list_answered_under_another_id_or_twice_is_still_filtered() {
    for behaviour in [
        Behaviour::ListUnderAnotherId,
        Behaviour::ListTwice,
        Behaviour::Reserialize,
    ] {
        let proxy = spawn(Options::default()).await;
        front(&proxy, behaviour).await;
        let session = proxy.initialize().await;
        let response = proxy
            .post(
                Some(&session),
                r#"{"jsonrpc":"2.0","id":"\u0032","method":"tools/list"}"#,
            )
            .await;
        assert_eq!(response.status(), 200);
        let answers = listed(&response.text().await.unwrap());
        assert!(!answers.is_empty(), "{behaviour:?}: no answer");
        if behaviour == Behaviour::ListTwice {
            assert_eq!(answers.len(), 2, "{behaviour:?}");
        }
        for tools in answers {
            // The seed policy shows k8s_run_pod alone; the demo lists 57 tools.
            assert_eq!(tools, ["k8s_run_pod"], "{behaviour:?}");
        }
    }
}

#[tokio::test]
async fn an_answer_without_end_is_cut_off_and_still_counted() {
    let proxy = spawn(Options {
        policy: Some(THREE_AN_HOUR.into()),
        settings: |settings| settings.max_upstream_message_bytes = 256 * 1024,
        ..Options::default()
    })
    .await;
    front(&proxy, Behaviour::Endless).await;
    let session = proxy.initialize().await;
    for expected in ["cut off", "cut off", "cut off", "Rate limit exceeded"] {
        let answer =
            tokio::time::timeout(Duration::from_secs(10), call_with_id(&proxy, &session, "7"))
                .await
                .expect("the proxy ends the stream");
        let text = answer["error"]["message"]
            .as_str()
            .or(answer["result"]["content"][0]["text"].as_str())
            .unwrap_or_default()
            .to_owned();
        assert!(text.contains(expected), "expected {expected:?}: {answer}");
    }
}

/// The next `SyncRequested` published, within 5 s.
async fn sync_request(changes: &mut (impl futures_util::Stream<Item = Change> + Unpin)) -> String {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let change = tokio::time::timeout_at(deadline, changes.next())
            .await
            .expect("a re-sync request within 5 s")
            .expect("the change stream stays open");
        if let Change::SyncRequested { reason, .. } = change {
            return reason;
        }
    }
}

#[tokio::test]
async fn a_tool_listed_with_another_definition_is_hidden_refused_and_re_synced_at_once() {
    let proxy = spawn(Options::default()).await;
    mcpgate_store::servers::update_server(
        &proxy.db.pool,
        proxy.tenant,
        proxy.server,
        &mcpgate_store::servers::ServerUpdate {
            block_changed_tools: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let session = proxy.initialize().await;
    // Precondition: as synced, the tool is listed and runs.
    let (_, answer) = proxy
        .call(&session, 1, "k8s_run_pod", json!({"image":"a"}))
        .await;
    assert_ne!(answer["result"]["isError"], true, "{answer}");
    let mut changes = Box::pin(
        mcpgate_store::changes::subscribe(&proxy.redis_conn)
            .await
            .unwrap(),
    );
    front(&proxy, Behaviour::RugPull).await;
    let session = proxy.initialize().await;
    let response = proxy
        .post(
            Some(&session),
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        )
        .await;
    let text = response.text().await.unwrap();
    let answers = listed(&text);
    assert_eq!(answers.len(), 1, "{text}");
    assert!(
        answers[0].is_empty(),
        "the changed tool is hidden: {answers:?}"
    );
    let reason = sync_request(&mut changes).await;
    assert!(reason.contains("k8s_run_pod"), "{reason}");
    let (_, answer) = proxy
        .call(&session, 3, "k8s_run_pod", json!({"image":"a"}))
        .await;
    let text = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("changed since it was approved"), "{answer}");
}

#[tokio::test]
async fn a_list_changed_notification_asks_for_a_re_sync() {
    let proxy = spawn(Options::default()).await;
    let mut changes = Box::pin(
        mcpgate_store::changes::subscribe(&proxy.redis_conn)
            .await
            .unwrap(),
    );
    front(&proxy, Behaviour::RugPull).await;
    let session = proxy.initialize().await;
    let (_, answer) = proxy
        .call(&session, 1, "k8s_run_pod", json!({"image":"a"}))
        .await;
    // The tool's catalogue entry did not change: the call is answered as usual.
    assert_ne!(answer["result"]["isError"], true, "{answer}");
    let reason = sync_request(&mut changes).await;
    assert!(reason.contains("list_changed"), "{reason}");
}

#[tokio::test]
async fn a_tool_list_slipped_onto_the_get_stream_is_filtered() {
    use futures_util::StreamExt;
    let proxy = spawn(Options::default()).await;
    front(&proxy, Behaviour::StrayList).await;
    let session = proxy.initialize().await;
    let response = proxy
        .client
        .get(proxy.url())
        .bearer_auth(&proxy.token)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("the stray list arrives")
            .expect("the stream stays open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let answers = listed(&text);
    assert_eq!(answers, [["k8s_run_pod"]], "{text}");
}
