use serde_json::json;

use crate::helpers::{denial_text, spawn, Options};

#[tokio::test]
async fn a_denied_call_is_http_200_with_the_reason_and_never_reaches_the_upstream() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let (status, response) = proxy
        .call(&session, 3, "k8s_delete_ns", json!({"name":"prod"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(response["id"], 3);
    let text = denial_text(&response);
    assert!(text.starts_with("[POLICY DENIED] "), "{text}");
    let structured = &response["result"]["structuredContent"];
    assert_eq!(structured["decision"], "deny");
    assert_eq!(structured["rule"], "(default deny)");
    let recorded = proxy.demo.recorded();
    assert!(!recorded
        .lock()
        .unwrap()
        .iter()
        .any(|r| r.body.contains("k8s_delete_ns")));
}

#[tokio::test]
async fn a_policy_may_answer_refusals_as_json_rpc_errors() {
    let proxy = spawn(Options {
        policy: Some(
            r#"{"version":"1","default":"deny","settings":{"deny_response":"jsonrpc_error"}}"#
                .into(),
        ),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (status, response) = proxy.call(&session, 3, "k8s_run_pod", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(response["error"]["code"], mcpgate_proxy::POLICY_DENIED);
    assert!(response["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("[POLICY DENIED] "));
    assert_eq!(response["error"]["data"]["decision"], "deny");
}

#[tokio::test]
async fn an_argument_rule_decides_on_the_arguments() {
    let policy = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{
        "require":[{"path":"args.image","op":"prefix","value":"registry.internal/"}]}}}"#;
    let proxy = spawn(Options {
        policy: Some(policy.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (_, response) = proxy
        .call(
            &session,
            1,
            "k8s_run_pod",
            json!({"image":"docker.io/evil"}),
        )
        .await;
    let text = denial_text(&response);
    assert!(text.contains("registry.internal/"), "{text}");
    let (_, response) = proxy
        .call(
            &session,
            2,
            "k8s_run_pod",
            json!({"image":"registry.internal/app"}),
        )
        .await;
    assert!(response["result"]["isError"] != true, "{response}");
    assert!(response["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("k8s_run_pod ok"));
}

#[tokio::test]
async fn a_shadow_rule_lets_the_call_through_and_audits_what_it_would_have_done() {
    let policy = r#"{"version":"1","default":"allow","tools":{"k8s_delete_ns":{"action":"deny","mode":"shadow","reason":"no deleting"}}}"#;
    let proxy = spawn(Options {
        policy: Some(policy.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (_, response) = proxy
        .call(&session, 1, "k8s_delete_ns", json!({"name":"x"}))
        .await;
    assert!(response["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("k8s_delete_ns ok"));
    let rows = proxy.audit_rows(1).await;
    assert_eq!(rows[0].decision, "shadow");
    assert_eq!(rows[0].reason.as_deref(), Some("no deleting"));
    assert_eq!(rows[0].upstream_status, Some(200));
}

#[tokio::test]
async fn the_grants_own_policy_narrows_the_servers() {
    let proxy = spawn(Options {
        policy: Some(r#"{"version":"1","default":"allow"}"#.into()),
        grant_policy: Some(r#"{"version":"1","default":"allow","tools":{"k8s_delete_ns":{"action":"deny","reason":"not this agent"}}}"#.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (_, response) = proxy.call(&session, 1, "k8s_delete_ns", json!({})).await;
    assert_eq!(denial_text(&response), "[POLICY DENIED] not this agent");
    let (_, response) = proxy.call(&session, 2, "k8s_get_nodes", json!({})).await;
    assert!(response["result"]["isError"] != true);
}

#[tokio::test]
async fn without_a_policy_every_call_is_refused_and_no_tool_is_shown() {
    let proxy = spawn(Options {
        policy: None,
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    let (_, response) = proxy.call(&session, 1, "k8s_get_nodes", json!({})).await;
    assert_eq!(
        denial_text(&response),
        "[POLICY DENIED] no policy is active for this server yet"
    );
    let list: serde_json::Value = proxy
        .post(
            Some(&session),
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["result"]["tools"], json!([]));
}

#[tokio::test]
async fn every_decision_is_audited_with_argument_keys_and_redacted_values_when_asked() {
    let policy = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{}},"settings":{"audit_arguments":true}}"#;
    let mut proxy = spawn(Options {
        policy: Some(policy.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    proxy
        .call(
            &session,
            1,
            "k8s_run_pod",
            json!({"image":"nginx","env":{"API_TOKEN":"s3cret"}}),
        )
        .await;
    proxy
        .call(&session, 2, "k8s_delete_ns", json!({"name":"prod"}))
        .await;
    // Shutting down drains the queue.
    proxy.shut_down().await;
    let rows = proxy.audit_rows(2).await;
    let allowed = rows.iter().find(|r| r.decision == "allow").unwrap();
    assert_eq!(allowed.tool.as_deref(), Some("k8s_run_pod"));
    assert_eq!(allowed.argument_keys, ["env", "image"]);
    assert_eq!(
        allowed.arguments.as_ref().unwrap()["env"]["API_TOKEN"],
        "[REDACTED]"
    );
    assert_eq!(allowed.grant_id, Some(proxy.grant));
    assert!(allowed.latency_us.is_some());
    let denied = rows.iter().find(|r| r.decision == "deny").unwrap();
    assert_eq!(denied.rule.as_deref(), Some("(default deny)"));
    assert_eq!(denied.policy_version, Some(1));
    let grant = mcpgate_store::grants::grant(&proxy.db.pool, proxy.tenant, proxy.grant)
        .await
        .unwrap();
    assert!(grant.last_used_at.is_some());
}

#[tokio::test]
async fn a_policy_edit_takes_effect_within_a_second() {
    use mcpgate_store::changes::{self, Change};
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let (_, response) = proxy.call(&session, 1, "k8s_get_nodes", json!({})).await;
    assert_eq!(response["result"]["isError"], true);
    mcpgate_store::policies::add_policy_version(
        &proxy.db.pool,
        proxy.tenant,
        proxy.server,
        r#"{"version":"1","default":"allow"}"#,
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
    let edited = std::time::Instant::now();
    loop {
        let (_, response) = proxy.call(&session, 2, "k8s_get_nodes", json!({})).await;
        if response["result"]["isError"] != true {
            break;
        }
        assert!(
            edited.elapsed() < std::time::Duration::from_secs(1),
            "old policy after 1 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_changed_tool_is_refused_and_hidden_while_blocking_is_on() {
    let proxy = spawn(Options {
        policy: Some(r#"{"version":"1","default":"allow"}"#.into()),
        ..Options::default()
    })
    .await;
    mark_changed_and_block(&proxy).await;
    let session = proxy.initialize().await;
    let (_, response) = proxy.call(&session, 1, "k8s_get_nodes", json!({})).await;
    assert!(denial_text(&response).contains("changed since it was approved"));
    let list = crate::helpers::last_message(
        &proxy
            .post(
                Some(&session),
                r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
            )
            .await
            .text()
            .await
            .unwrap(),
    );
    let names: Vec<&str> = list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"k8s_get_nodes"));
    assert!(names.contains(&"k8s_get_pod_logs"));
}

/// Re-syncs the server with a changed `k8s_get_nodes`, as discovery would after the
/// upstream changed it; its approved fingerprint stays the old one.
async fn mark_changed_and_block(proxy: &crate::helpers::TestProxy) {
    use mcpgate_store::servers::{self, DiscoveredServer};
    let mut tools = crate::helpers::stored_tools(proxy).await;
    let changed = tools
        .iter_mut()
        .find(|t| t.name == "k8s_get_nodes")
        .unwrap();
    changed.fingerprint = "changed-fingerprint".into();
    servers::sync_server(
        &proxy.db.pool,
        proxy.tenant,
        proxy.server,
        &DiscoveredServer {
            transport: "streamable_http".into(),
            server_info: None,
            protocol_version: None,
            instructions: None,
        },
        &tools,
    )
    .await
    .unwrap();
    servers::update_server(
        &proxy.db.pool,
        proxy.tenant,
        proxy.server,
        &servers::ServerUpdate {
            block_changed_tools: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}
