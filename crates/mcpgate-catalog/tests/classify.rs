//! The classifier on single tools: the product's anchor cases and tools from
//! servers outside the fixtures (GitHub, Slack, Postgres, browser, AWS).

use mcpgate_catalog::{classify, Assessment, Catalogue, EvidenceKind, ToolDefinition};
use mcpgate_policy::{Category, Risk};
use serde_json::{json, Value};

#[path = "classify/round_eight.rs"]
mod round_eight;
#[path = "classify/round_eleven.rs"]
mod round_eleven;
#[path = "classify/round_five.rs"]
mod round_five;
#[path = "classify/round_fourteen.rs"]
mod round_fourteen;
#[path = "classify/round_nine.rs"]
mod round_nine;
#[path = "classify/round_seven.rs"]
mod round_seven;
#[path = "classify/round_six.rs"]
mod round_six;
#[path = "classify/round_sixteen.rs"]
mod round_sixteen;
#[path = "classify/round_ten.rs"]
mod round_ten;
#[path = "classify/round_thirteen.rs"]
mod round_thirteen;
#[path = "classify/round_twelve.rs"]
mod round_twelve;

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

// Round 3 (issue 14): general causes of the second held-out set's worst misses, pinned on
// tools of the same shapes that are not in the evaluation set.

#[test]
fn a_removal_from_another_object_detaches_it_while_a_plain_removal_deletes() {
    let plain = tool("remove_label", "Remove a label.", &["label_id"]);
    assert_eq!(class_of(plain).0, Category::Destructive);
    let detach = tool(
        "remove_label_from_issue",
        "Remove a label from an issue.",
        &["issue_id", "label_id"],
    );
    assert_eq!(class_of(detach), (Category::Write, Risk::Low));
    let person = tool(
        "remove_user_from_ticket",
        "Remove a user from a ticket.",
        &["ticket_id", "user_id"],
    );
    assert_eq!(class_of(person), (Category::Write, Risk::Medium));
}

#[test]
fn the_head_of_the_object_decides_whether_a_deletion_takes_a_whole_system() {
    let project = tool("delete_project", "Delete a project.", &["project_id"]);
    assert_eq!(class_of(project), (Category::Destructive, Risk::Critical));
    let status = tool(
        "delete_project_status",
        "Delete a status update of a project.",
        &["status_id"],
    );
    assert_eq!(class_of(status), (Category::Destructive, Risk::Medium));
}

#[test]
fn a_free_resource_type_read_by_name_returns_secrets_but_describe_summarises() {
    let with_type = |name: &str, type_description: &str| {
        json!({"name": name, "description": "Get or describe cluster resources.",
            "inputSchema": {"type": "object", "properties": {
                "resourceType": {"type": "string", "description": type_description},
                "name": {"type": "string"}}}})
    };
    let open = "Type of resource (e.g., pods, configmaps, etc.)";
    assert_eq!(
        class_of(with_type("cluster_get", open)),
        (Category::Credential, Risk::High)
    );
    assert_eq!(
        class_of(with_type("cluster_describe", open)),
        (Category::Read, Risk::Medium)
    );
    let closed = "Type of resource: dashboard, panel, or explore";
    assert_eq!(
        class_of(with_type("cluster_get", closed)),
        (Category::Read, Risk::Low)
    );
}

#[test]
fn a_secret_scanners_findings_are_credentials_even_when_read_only() {
    let mut value = tool(
        "security_alerts_list",
        "List Advanced Security alerts for a repository, secret alerts included.",
        &["repository"],
    );
    value["annotations"] = json!({"readOnlyHint": true});
    assert_eq!(class_of(value), (Category::Credential, Risk::High));
}

#[test]
fn an_upload_from_the_servers_disk_is_network_high_and_inline_content_is_a_write() {
    let from_disk = tool(
        "wiki_upload_attachment",
        "Upload a file to a wiki page.",
        &["page_id", "file_path"],
    );
    assert_eq!(class_of(from_disk), (Category::Network, Risk::High));
    let inline = tool(
        "wiki_upload_attachment",
        "Upload a file to a wiki page.",
        &["page_id", "content_base64", "filename"],
    );
    assert_eq!(class_of(inline), (Category::Write, Risk::Low));
}

#[test]
fn a_trailing_agent_noun_is_the_action_and_a_password_it_sets_is_a_credential() {
    let reader = tool(
        "acme-deploy-services-reader",
        "Select and run one of the following read operations get-deploy, list-deploys",
        &["selectSchema"],
    );
    assert_eq!(class_of(reader), (Category::Read, Risk::Low));
    let updater = json!({"name": "acme-site-services-updater",
        "description": "Select and run one of the following write operations update-access, update-name",
        "inputSchema": {"type": "object", "properties": {"selectSchema": {"anyOf": [
            {"type": "object", "properties": {"operation": {"const": "update-access"},
                "params": {"type": "object", "properties": {
                    "requirePassword": {"type": "boolean"}, "passwordValue": {"type": "string"}}}}}]}}}});
    assert_eq!(class_of(updater), (Category::Credential, Risk::Critical));
}

#[test]
fn an_action_argument_offering_only_reads_makes_a_resource_named_tool_a_read() {
    let with_actions = |actions: Value| {
        json!({"name": "pipelines_build", "description": "Retrieve build data for a project.",
            "inputSchema": {"type": "object", "properties": {
                "action": {"type": "string", "enum": actions}, "project": {"type": "string"}}}})
    };
    assert_eq!(
        class_of(with_actions(json!(["list", "get_status"]))),
        (Category::Read, Risk::Low)
    );
    assert_ne!(
        class_of(with_actions(json!(["list", "queue_build"]))).0,
        Category::Read
    );
}

#[test]
fn shared_configuration_changes_are_high_and_empty_containers_are_low() {
    let dashboard = tool(
        "update_dashboard",
        "Update a dashboard.",
        &["uid", "panels"],
    );
    assert_eq!(class_of(dashboard), (Category::Write, Risk::High));
    let board = tool("create_board", "Create a new board.", &["name"]);
    assert_eq!(class_of(board), (Category::Write, Risk::Low));
    let card = tool(
        "add_card_to_board",
        "Add a new card to a board.",
        &["board_id", "title"],
    );
    assert_eq!(class_of(card), (Category::Write, Risk::Medium));
}

#[test]
fn ending_or_steering_the_callers_own_session_is_a_low_write() {
    for name in ["stop_port_forward", "set_active_workspace", "browser_hover"] {
        assert_eq!(
            class_of(tool(name, "", &["id"])),
            (Category::Write, Risk::Low),
            "{name}"
        );
    }
    assert_eq!(
        class_of(tool("browser_click", "", &["ref"])),
        (Category::Write, Risk::Medium)
    );
}

#[test]
fn silencing_monitoring_is_a_high_write_and_lifting_a_silence_is_not() {
    let snooze = tool(
        "snooze_monitor",
        "Snooze a monitor's notifications until a given time.",
        &["monitor_id", "until"],
    );
    assert_eq!(class_of(snooze), (Category::Write, Risk::High));
    let unmute = tool(
        "unmute_monitor",
        "Unmute a monitor so that it notifies again.",
        &["monitor_id"],
    );
    let (category, risk) = class_of(unmute);
    assert_eq!(category, Category::Write);
    assert!(
        risk < Risk::High,
        "lifting a silence restores alerting: {risk}"
    );
}

#[test]
fn a_secret_set_through_the_schema_is_a_credential_change_and_one_supplied_is_not() {
    let update = tool(
        "update_api",
        "Update an existing API's settings.",
        &["api_id", "name", "client_secret"],
    );
    assert_eq!(class_of(update), (Category::Credential, Risk::Critical));
    let action = json!({
        "name": "update_survey",
        "description": "Update a survey. Use the action field to choose the operation.",
        "inputSchema": {"type": "object", "properties": {
            "survey_id": {"type": "string"},
            "action": {"type": "string", "enum": ["rename", "close", "resetAccessPassword"]}
        }}
    });
    assert_eq!(class_of(action), (Category::Credential, Risk::Critical));
    let created = tool(
        "create_api",
        "Create an API definition.",
        &["name", "signing_secret"],
    );
    assert_eq!(class_of(created), (Category::Write, Risk::High));
    let supplied = tool(
        "submit_survey_answer",
        "Submit an answer to a password-protected survey.",
        &["survey_id", "answer", "password"],
    );
    assert_ne!(class_of(supplied).0, Category::Credential);
}

#[test]
fn creating_a_client_whose_description_speaks_of_its_client_secret_mints_a_credential() {
    let create = tool(
        "create_client",
        "Create an OAuth client. Its client secret is shown once in the response.",
        &["name", "redirect_uris"],
    );
    assert_eq!(class_of(create), (Category::Credential, Risk::Critical));
    let plain = tool(
        "create_client_note",
        "Create a note on a customer.",
        &["client_id", "text"],
    );
    assert_ne!(class_of(plain).0, Category::Credential);
}

#[test]
fn a_graphql_tool_taking_mutations_is_execute_critical_and_one_taking_queries_a_medium_read() {
    let mutation = tool(
        "run_mutation",
        "Execute GraphQL mutations against the shop's API.",
        &["query", "variables"],
    );
    assert_eq!(class_of(mutation), (Category::Execute, Risk::Critical));
    let mut query = tool(
        "query_shop",
        "Query the shop's API with a read-only GraphQL query.",
        &["query", "variables"],
    );
    query["annotations"] = json!({"readOnlyHint": true});
    assert_eq!(class_of(query), (Category::Read, Risk::Medium));
}

#[test]
fn a_read_named_tool_whose_description_updates_something_takes_the_write_reading() {
    let guide = tool(
        "get_setup_guide",
        "Return the setup guide for a framework. Resolves callback URLs and updates them on the application.",
        &["app_id", "framework"],
    );
    assert_eq!(class_of(guide).0, Category::Write);
    let updates = tool(
        "list_updates",
        "List the status updates for a project.",
        &["project_id"],
    );
    assert_eq!(class_of(updates), (Category::Read, Risk::Low));
}

#[test]
fn an_upload_that_takes_only_identifiers_completes_one_and_sends_nothing_out() {
    let complete = tool(
        "upload_finalize",
        "Finalize an upload made to the presigned URL and attach the file to the record.",
        &["upload_id", "record_id"],
    );
    assert_eq!(class_of(complete).0, Category::Write);
    let send = tool(
        "upload_file",
        "Upload a local file to the shared drive.",
        &["file_path", "folder_id"],
    );
    assert_eq!(class_of(send), (Category::Network, Risk::High));
}

#[test]
fn a_re_verb_is_read_as_the_verb_it_repeats() {
    let value = tool(
        "reassign_ticket",
        "Reassign a ticket to another agent.",
        &["ticket_id", "agent_id"],
    );
    let assessment = assess(value);
    assert_eq!(assessment.classification.category, Category::Write);
    assert_eq!(assessment.evidence[0].kind, EvidenceKind::NameVerb);
    assert_eq!(assessment.evidence[0].matched, "reassign");
}

#[test]
fn sending_a_one_time_code_to_the_registered_contact_is_a_write_and_verifying_one_is_not() {
    let send = tool(
        "create_phone_verification_otp",
        "Send a one-time code by SMS to the phone number registered on the account.",
        &["account_id"],
    );
    assert_eq!(class_of(send), (Category::Write, Risk::Medium));
    let verify = tool(
        "verify_otp",
        "Verify a one-time code and sign the user in.",
        &["account_id", "code"],
    );
    assert_eq!(class_of(verify).0, Category::Credential);
}
