//! The issue's journey: sign up, add a server, read its tools, apply a policy,
//! issue a grant and connect.

use mcpgate_demo::DemoSettings;
use reqwest::StatusCode;

use crate::helpers::Browser;

const SEED_POLICY: &str = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"k8s_run_pod_rate","window":"minute","max":10,"scope":"grant"}]}}}"#;

#[tokio::test]
async fn a_new_user_adds_a_server_applies_a_policy_and_gets_connection_snippets() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = mcpgate_demo::spawn(DemoSettings::default()).await;
    let browser = Browser::signed_up(&app).await;

    // Add the server: discovery runs and the browser lands on its page.
    let server_page = browser.add_server("k8s demo", &upstream.url()).await;
    assert_eq!(server_page.status, StatusCode::OK, "{}", server_page.html);
    let server_path = server_page.path.clone();
    let server_id = server_path.strip_prefix("/servers/").unwrap().to_owned();
    let row = server_page
        .row("tool-row-k8s_run_pod")
        .expect("k8s_run_pod in the tools table");
    assert!(
        row.contains("data-testid=\"category-badge\">execute<"),
        "{row}"
    );
    assert!(row.contains("data-testid=\"risk-badge\">high<"), "{row}");
    assert!(row.contains("data-status=\"allowed\""), "{row}");
    assert_eq!(
        server_page.html.matches("data-testid=\"tool-row-").count(),
        57
    );

    // Apply the seed policy through the editor.
    let policy_path = format!("{server_path}/policy");
    let saved = browser
        .submit(&policy_path, &policy_path, &[("document", SEED_POLICY)])
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.html);
    assert_eq!(saved.path, format!("{policy_path}?saved=1"));
    assert!(saved.html.contains("k8s_run_pod_rate"));

    // The tools table now shows what the policy does.
    let server_page = browser.get(&server_path).await;
    let row = server_page.row("tool-row-k8s_run_pod").unwrap();
    assert!(row.contains("data-status=\"limited\""), "{row}");
    assert!(row.contains("10 per 60s"), "{row}");
    let other = server_page.row("tool-row-k8s_get_contexts").unwrap();
    assert!(other.contains("data-status=\"denied\""), "{other}");

    // Create a grant on the connect page: the token and the snippets carry it.
    let connect_path = format!("{server_path}/connect");
    let connect = browser
        .submit(&connect_path, &connect_path, &[("name", "ci-agent")])
        .await;
    assert_eq!(connect.status, StatusCode::CREATED, "{}", connect.html);
    let token = connect
        .testid_text("grant-token")
        .expect("the token, shown once");
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let proxy_url = connect.testid_text("proxy-url").unwrap();
    assert_eq!(proxy_url, app.proxy_url(&format!("/mcp/{server_id}/")));
    let claude = connect.testid_text("snippet-claude-code-code").unwrap();
    assert_eq!(
        claude,
        format!(
            "claude mcp add --transport http k8s-demo {proxy_url} --header \"Authorization: Bearer {token}\""
        )
    );
    for id in ["claude-desktop", "cursor", "vscode"] {
        let code = connect.testid_text(&format!("snippet-{id}-code")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&code).expect("valid JSON");
        assert!(
            json.to_string().contains(&format!("Bearer {token}")),
            "{id}"
        );
        assert!(json.to_string().contains(&proxy_url), "{id}");
    }
    let vscode: serde_json::Value =
        serde_json::from_str(&connect.testid_text("snippet-vscode-code").unwrap()).unwrap();
    assert_eq!(vscode["servers"]["k8s-demo"]["type"], "http");
    for id in ["python-v1", "python-v2", "typescript"] {
        let code = connect.testid_text(&format!("snippet-{id}-code")).unwrap();
        assert!(code.contains(&token), "{id}");
    }

    // The token works at the proxy: tools/list shows only what the policy allows.
    let listed: serde_json::Value = app
        .client
        .post(&proxy_url)
        .bearer_auth(&token)
        .header("accept", "application/json, text/event-stream")
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or_default();
    if let Some(tools) = listed["result"]["tools"].as_array() {
        let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
        assert_eq!(names, ["k8s_run_pod"]);
    }

    // And the grant is listed on the grants page, without its token.
    let grants = browser.get("/grants").await;
    assert!(grants.html.contains("data-testid=\"grant-row-ci-agent\""));
    assert!(!grants.html.contains(&token));
}

#[tokio::test]
async fn quick_actions_history_diff_rollback_and_simulation_work_on_the_policy() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = mcpgate_demo::spawn(DemoSettings::default()).await;
    let browser = Browser::signed_up(&app).await;
    let server = browser.add_server("k8s", &upstream.url()).await;
    let policy = format!("{}/policy", server.path);

    // Version 1: the recommended policy, in one click.
    let page = browser
        .submit(&policy, &format!("{policy}/recommended"), &[])
        .await;
    assert_eq!(page.path, format!("{policy}?saved=1"), "{}", page.html);

    // Version 2: rate-limit k8s_run_pod to 3 a minute.
    let page = browser
        .submit(
            &policy,
            &format!("{policy}/quick"),
            &[
                ("tool", "k8s_run_pod"),
                ("action", "rate_limit"),
                ("max", "3"),
                ("window", "minute"),
            ],
        )
        .await;
    assert_eq!(page.path, format!("{policy}?saved=2"), "{}", page.html);

    // Version 3: the builder hides k8s_delete_ns.
    let page = browser
        .submit(
            &policy,
            &format!("{policy}/builder"),
            &[
                ("choice:k8s_delete_ns", "hide"),
                ("choice:k8s_run_pod", "custom"),
            ],
        )
        .await;
    assert_eq!(page.path, format!("{policy}?saved=3"), "{}", page.html);
    let editor = page.testid_text("policy-editor").unwrap();
    let document: serde_json::Value = serde_json::from_str(&editor).unwrap();
    assert!(document["hide"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("k8s_delete_ns")));
    assert_eq!(document["tools"]["k8s_run_pod"]["limits"][0]["max"], 3);

    // The diff between 2 and 3 shows the hide entry added.
    let diff = browser.get(&format!("{policy}?from=2&to=3")).await;
    assert!(diff.html.contains("data-testid=\"policy-diff\""));
    assert!(diff.html.contains("<div class=\"add\">+"), "{}", diff.html);

    // Simulate four calls: three allowed, the fourth limited.
    let simulated = browser
        .submit(
            &policy,
            &format!("{policy}/simulate"),
            &[("tool", "k8s_run_pod"), ("arguments", "{}"), ("times", "4")],
        )
        .await;
    assert_eq!(simulated.status, StatusCode::OK, "{}", simulated.html);
    let rows: Vec<&str> = simulated
        .html
        .split("data-testid=\"simulation-row\"")
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[2].contains(">allow<"), "{}", rows[2]);
    assert!(rows[3].contains(">deny<"), "{}", rows[3]);

    // Roll back to version 1: stored as version 4.
    let page = browser
        .submit(&policy, &format!("{policy}/rollback"), &[("version", "1")])
        .await;
    assert_eq!(page.path, format!("{policy}?saved=4"), "{}", page.html);
}
