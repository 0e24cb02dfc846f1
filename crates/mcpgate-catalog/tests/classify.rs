//! The classifier on single tools: the product's anchor cases and tools from
//! servers outside the fixtures (GitHub, Slack, Postgres, browser, AWS).

use mcpgate_catalog::{classify, Assessment, Catalogue, EvidenceKind, ToolDefinition};
use mcpgate_policy::{Category, Risk};
use serde_json::{json, Value};

fn assess(value: Value) -> Assessment {
    classify(&ToolDefinition::from_value(&value).expect("valid tool"))
}

fn tool(name: &str, description: &str, arguments: &[&str]) -> Value {
    let properties: serde_json::Map<String, Value> = arguments
        .iter()
        .map(|a| ((*a).to_owned(), json!({"type": "string"})))
        .collect();
    json!({"name": name, "description": description, "inputSchema": {"type": "object", "properties": properties}})
}

fn class_of(value: Value) -> (Category, Risk) {
    let assessment = assess(value);
    (
        assessment.classification.category,
        assessment.classification.risk,
    )
}

#[test]
fn k8s_run_pod_is_an_execute_tool_with_high_risk() {
    let catalogue =
        Catalogue::parse(include_str!("fixtures/k8s-multicluster-mcp.json")).expect("fixture");
    let run_pod = catalogue
        .entries
        .iter()
        .find(|e| e.tool.name() == "k8s_run_pod")
        .expect("k8s_run_pod");
    let assessment = classify(&run_pod.tool);
    assert_eq!(assessment.classification.category, Category::Execute);
    assert!(assessment.classification.risk >= Risk::High);
    assert_eq!(assessment.evidence[0].kind, EvidenceKind::NameVerb);
    assert_eq!(assessment.evidence[0].matched, "run");
}

#[test]
fn a_read_only_hint_does_not_hide_a_secret_scanning_tool() {
    let mut value = tool(
        "get_secret_scanning_alert",
        "Get details of a secret scanning alert.",
        &["owner", "repo"],
    );
    value["annotations"] = json!({"readOnlyHint": true});
    assert_eq!(class_of(value), (Category::Credential, Risk::High));
}

#[test]
fn secret_names_with_values_hidden_are_a_medium_read() {
    let value = tool(
        "list_secrets",
        "List secrets (names only, values are hidden).",
        &["namespace"],
    );
    assert_eq!(class_of(value), (Category::Read, Risk::Medium));
}

#[test]
fn destructive_hint_decides_when_the_name_says_nothing() {
    let mut value = tool("branch_cleanup", "Branches merged into main.", &["repo"]);
    value["annotations"] = json!({"readOnlyHint": false, "destructiveHint": true});
    assert_eq!(class_of(value).0, Category::Destructive);
}

#[test]
fn a_tool_with_no_signal_is_assumed_to_change_state() {
    let assessment = assess(json!({"name": "frobnicate"}));
    assert_eq!(assessment.classification.category, Category::Write);
    assert_eq!(assessment.evidence[0].kind, EvidenceKind::Default);
}

#[test]
fn tools_of_other_servers_get_sensible_classes() {
    let cases = [
        (
            tool(
                "search_repositories",
                "Search for GitHub repositories",
                &["query"],
            ),
            Category::Read,
            Risk::Low,
        ),
        (
            tool(
                "create_pull_request",
                "Create a new pull request",
                &["owner", "repo", "title", "head", "base"],
            ),
            Category::Write,
            Risk::Medium,
        ),
        (
            tool(
                "slack_post_message",
                "Post a new message to a Slack channel",
                &["channel_id", "text"],
            ),
            Category::Network,
            Risk::Medium,
        ),
        (
            tool("send_email", "Send an email", &["to", "subject", "body"]),
            Category::Network,
            Risk::High,
        ),
        (
            tool("query", "Run a read-only SQL query", &["sql"]),
            Category::Execute,
            Risk::Medium,
        ),
        (
            tool("puppeteer_navigate", "Navigate to a URL", &["url"]),
            Category::Network,
            Risk::Medium,
        ),
        (
            tool(
                "fetch",
                "Fetches a URL from the internet",
                &["url", "max_length"],
            ),
            Category::Network,
            Risk::Medium,
        ),
        (
            tool(
                "execute_command",
                "Execute a terminal command",
                &["command", "timeout_ms"],
            ),
            Category::Execute,
            Risk::Critical,
        ),
        (
            tool("call_aws", "Execute AWS CLI commands", &["cli_command"]),
            Category::Execute,
            Risk::Critical,
        ),
        (
            tool(
                "get_secret_value",
                "Retrieves the SecretString of a secret",
                &["secret_id"],
            ),
            Category::Credential,
            Risk::High,
        ),
        (
            tool(
                "create_access_key",
                "Creates a new AWS secret access key",
                &["user_name"],
            ),
            Category::Credential,
            Risk::Critical,
        ),
        (
            tool(
                "attach_role_policy",
                "Attaches a managed policy to an IAM role",
                &["role_name", "policy_arn"],
            ),
            Category::Write,
            Risk::High,
        ),
        (
            tool(
                "create_refund",
                "Refund a payment in Stripe",
                &["payment_intent"],
            ),
            Category::Write,
            Risk::High,
        ),
        (
            tool("delete_database", "Delete a database", &["name"]),
            Category::Destructive,
            Risk::Critical,
        ),
        (
            tool(
                "git_status",
                "Shows the working tree status",
                &["repo_path"],
            ),
            Category::Read,
            Risk::Low,
        ),
        (
            tool(
                "slack_add_reaction",
                "Add a reaction emoji to a message",
                &["channel_id", "reaction"],
            ),
            Category::Write,
            Risk::Low,
        ),
    ];
    for (value, category, risk) in cases {
        let name = value["name"].as_str().unwrap_or_default().to_owned();
        assert_eq!(class_of(value), (category, risk), "{name}");
    }
}

#[test]
fn the_assessment_serialises_with_name_category_risk_and_evidence() {
    let value = serde_json::to_value(assess(tool("delete_file", "Delete a file", &["path"])))
        .expect("json");
    assert_eq!(value["name"], "delete_file");
    assert_eq!(value["category"], "destructive");
    assert_eq!(value["risk"], "high");
    assert_eq!(
        value["evidence"][0],
        json!({
            "kind": "name_verb", "matched": "delete", "effect": {"category": "destructive"},
            "message": "name verb `delete` → destructive"
        })
    );
}
