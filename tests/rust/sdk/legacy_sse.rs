//! The legacy HTTP+SSE transport (2024-11-05) through the proxy, with the official
//! Python SDKs' `sse_client`: the endpoint event is rewritten to the proxy, listing
//! is filtered, refusals arrive on the client's stream, allowed calls pass.

use mcpgate_demo::DemoSettings;
use mcpgate_e2e::api::sign_up;
use mcpgate_e2e::drivers::{Driver, Sdk};
use serde_json::json;

#[tokio::test]
async fn python_sdks_are_governed_over_legacy_sse() {
    let app = mcpgate_testkit::spawn_app().await;
    let demo = mcpgate_demo::spawn(DemoSettings::default()).await;
    let tenant = sign_up(&app).await;
    let server = tenant.register("legacy", &demo.sse_url(), json!({})).await;
    tenant
        .put_policy(
            &server,
            json!({"version": "1", "default": "deny", "tools": {
                "k8s_get_namespaces": {},
                "k8s_delete_ns": {"action": "deny", "reason": "namespaces are deleted by humans"}}}),
        )
        .await;
    let grant = tenant.grant("legacy-agent", &server).await;
    let url = format!("{}sse", server.proxy_url);

    for sdk in [Sdk::Python2, Sdk::Python1] {
        let mut agent = Driver::start_legacy_sse(sdk, &url, &grant.token).await;
        assert_eq!(agent.list_tools().await, ["k8s_get_namespaces"], "{sdk}");

        let allowed = agent
            .call("k8s_get_namespaces", json!({"context": "prod"}))
            .await;
        assert!(!allowed.is_error(), "{sdk}: {allowed:?}");
        assert!(
            allowed.text().starts_with("k8s_get_namespaces ok: "),
            "{sdk}: {allowed:?}"
        );

        let denied = agent
            .call("k8s_delete_ns", json!({"context": "prod", "name": "x"}))
            .await;
        assert!(denied.is_error(), "{sdk}: {denied:?}");
        assert!(
            denied.text().starts_with("[POLICY DENIED] "),
            "{sdk}: {denied:?}"
        );
        assert!(
            denied.text().contains("namespaces are deleted by humans"),
            "{sdk}: {denied:?}"
        );

        // The session survives the refusal.
        let again = agent
            .call("k8s_get_namespaces", json!({"context": "dev"}))
            .await;
        assert!(!again.is_error(), "{sdk}: {again:?}");
    }
    let deletes = demo
        .recorded()
        .lock()
        .unwrap()
        .iter()
        .filter(|request| request.body.contains("k8s_delete_ns"))
        .count();
    assert_eq!(deletes, 0, "the refused call never reached the upstream");
}
