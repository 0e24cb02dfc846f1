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

// Round 5 (issue 14): general causes of the fourth held-out set's worst misses (what a read
// returns, what a caller-chosen path runs, a delete named only in prose, consequences without
// a high word), pinned on tools of the same shapes that are not in the evaluation set, each
// against its contrast.

#[test]
fn a_read_whose_response_carries_cookies_or_a_stored_login_is_a_credential_unless_masked() {
    let headers = tool(
        "get_captured_response",
        "Get a captured HTTP response, with its headers (including Set-Cookie).",
        &["response_id"],
    );
    assert_eq!(class_of(headers), (Category::Credential, Risk::High));
    let login = tool(
        "get_crawler_login",
        "Retrieve the stored authentication configuration the crawler signs in with.",
        &["config_id"],
    );
    assert_eq!(class_of(login), (Category::Credential, Risk::High));
    let masked = tool(
        "get_connection",
        "Get the connection settings, with API keys masked.",
        &[],
    );
    assert_eq!(class_of(masked), (Category::Read, Risk::Medium));
    let plain = tool(
        "get_captured_request",
        "Get a captured HTTP request with its timing.",
        &["request_id"],
    );
    assert_eq!(class_of(plain), (Category::Read, Risk::Low));
    let connection = tool(
        "get_database",
        "Get a database's details, including its connection string.",
        &["database_id"],
    );
    assert_eq!(class_of(connection), (Category::Credential, Risk::High));
    let flag = tool(
        "get_profile",
        "Get a user's profile, including whether a password is set.",
        &["user_id"],
    );
    assert_eq!(class_of(flag), (Category::Read, Risk::Low));
    let strength = tool(
        "check_strength",
        "Check password strength against the policy.",
        &["candidate"],
    );
    assert_ne!(class_of(strength).1, Risk::High);
    let needs_key = tool(
        "search_places",
        "Search places near a point. Requires an API key in the server's settings.",
        &["query", "near"],
    );
    assert_eq!(class_of(needs_key), (Category::Read, Risk::Low));
}

#[test]
fn text_returned_as_plain_text_is_a_format_while_a_secret_in_plain_text_is_revealed() {
    let artifact = tool(
        "get_job_output",
        "Download a job's output file. Binary files are base64-encoded; text files are returned as plain text.",
        &["job_id", "path"],
    );
    assert_eq!(class_of(artifact), (Category::Read, Risk::Low));
    let revealed = tool(
        "get_service_settings",
        "Get the service settings, with the database password in plain text.",
        &["service_id"],
    );
    assert_eq!(class_of(revealed).0, Category::Credential);
}

#[test]
fn an_items_code_beside_its_name_is_an_identifier_and_source_code_is_code() {
    let mut sku = tool(
        "create_product",
        "Create a product in the catalogue.",
        &["code", "name", "price"],
    );
    sku["inputSchema"]["required"] = json!(["code", "name"]);
    assert_eq!(class_of(sku), (Category::Write, Risk::Medium));
    let mut function = tool(
        "create_hook",
        "Create a hook in the tenant.",
        &["name", "code"],
    );
    function["inputSchema"]["properties"]["code"] =
        json!({"type": "string", "description": "JavaScript source of the hook."});
    function["inputSchema"]["required"] = json!(["name", "code"]);
    assert_eq!(class_of(function).0, Category::Execute);
}

#[test]
fn a_caller_chosen_app_or_playbook_path_runs_unless_the_tool_only_checks_it() {
    let record = tool(
        "capture_app_screen",
        "Capture the screen of an app running on a cloud device.",
        &["device", "appPath"],
    );
    assert_eq!(class_of(record), (Category::Execute, Risk::High));
    let run = tool(
        "run_playbook",
        "Run a playbook against the inventory.",
        &["playbook_path", "inventory"],
    );
    assert_eq!(class_of(run).1, Risk::High);
    let script = tool(
        "run_script",
        "Run a script on the build agent.",
        &["script_path", "agent"],
    );
    assert_eq!(class_of(script), (Category::Execute, Risk::High));
    let check = tool(
        "playbook_lint",
        "Lint a playbook for style problems.",
        &["playbook_path"],
    );
    assert_eq!(class_of(check), (Category::Read, Risk::Low));
}

#[test]
fn a_build_command_nested_in_the_spec_of_what_is_created_runs() {
    let app = json!({
        "name": "create_app",
        "description": "Create a new app",
        "inputSchema": {"type": "object", "properties": {"params": {"type": "object", "properties": {
            "name": {"type": "string"},
            "repo": {"type": "string"},
            "buildCommand": {"type": "string"},
        }}}},
    });
    assert_eq!(class_of(app), (Category::Execute, Risk::High));
    let plain = json!({
        "name": "create_app",
        "description": "Create a new app",
        "inputSchema": {"type": "object", "properties": {"params": {"type": "object", "properties": {
            "name": {"type": "string"},
            "region": {"type": "string"},
            "plan": {"type": "string"},
        }}}},
    });
    assert_eq!(class_of(plain), (Category::Write, Risk::Medium));
}

#[test]
fn a_delete_named_only_in_a_multi_action_tools_prose_makes_it_destructive() {
    let described = tool(
        "widgets_write",
        "Write operations for widgets.\n\nArgs:\n    action (str): The action: \"create\", \"update\" or \"delete\"\n    widget_id (str): The widget",
        &["action", "widget_id"],
    );
    assert_eq!(class_of(described), (Category::Destructive, Risk::High));
    let listed = tool(
        "alert_rules_write",
        "Create, update, and delete alert rules.",
        &["rule_uid", "title"],
    );
    assert_eq!(class_of(listed).0, Category::Destructive);
    let changes_only = tool(
        "widgets_write",
        "Write operations for widgets.\n\nArgs:\n    action (str): The action: \"create\" or \"update\"\n    widget_id (str): The widget",
        &["action", "widget_id"],
    );
    assert_eq!(class_of(changes_only), (Category::Write, Risk::Medium));
    let detach = tool(
        "labels_write",
        "Add or remove labels from an issue.",
        &["issue_id", "labels"],
    );
    assert_eq!(class_of(detach).0, Category::Write);
}

#[test]
fn a_deletion_with_a_recursive_switch_is_critical() {
    let mut recursive = tool(
        "delete_folder",
        "Delete a folder in the drive.",
        &["folder_id"],
    );
    recursive["inputSchema"]["properties"]["recursive"] = json!({"type": "boolean"});
    assert_eq!(class_of(recursive), (Category::Destructive, Risk::Critical));
    let plain = tool(
        "delete_folder",
        "Delete a folder in the drive.",
        &["folder_id"],
    );
    assert_eq!(class_of(plain), (Category::Destructive, Risk::High));
}

#[test]
fn a_ticket_reply_a_public_ticket_comment_and_a_shared_link_reach_outside_people() {
    let reply = tool(
        "add_ticket_reply",
        "Add a reply to a support ticket.",
        &["ticket_id", "body"],
    );
    assert_eq!(class_of(reply), (Category::Network, Risk::High));
    let mut public = tool(
        "add_case_comment",
        "Add a comment to a support case.",
        &["case_id", "body"],
    );
    public["inputSchema"]["properties"]["public"] = json!({"type": "boolean"});
    assert_eq!(class_of(public), (Category::Network, Risk::High));
    let link = tool(
        "create_shared_link",
        "Create a link to a document.",
        &["document_id", "access"],
    );
    assert_eq!(class_of(link), (Category::Network, Risk::High));
    let mut internal = tool(
        "add_issue_comment",
        "Add a comment to an issue.",
        &["issue_id", "body"],
    );
    internal["inputSchema"]["properties"]["public"] = json!({"type": "boolean"});
    assert_eq!(class_of(internal), (Category::Write, Risk::Medium));
    let doc_reply = tool(
        "create_comment_reply",
        "Reply to a comment in a document.",
        &["document_id", "comment_id", "text"],
    );
    assert_eq!(class_of(doc_reply).0, Category::Write);
}

#[test]
fn a_whole_configuration_document_or_environment_list_is_a_high_write_and_one_variable_is_not() {
    let document = tool(
        "set_job_config",
        "Set a job's configuration.",
        &["job", "config_xml"],
    );
    assert_eq!(class_of(document), (Category::Write, Risk::High));
    let environment = json!({
        "name": "set_service_env",
        "description": "Set the environment of a service",
        "inputSchema": {"type": "object", "properties": {
            "service_id": {"type": "string"},
            "envVars": {"type": "array", "items": {"type": "object", "properties": {
                "key": {"type": "string"}, "value": {"type": "string"}}}},
        }},
    });
    assert_eq!(class_of(environment), (Category::Write, Risk::High));
    let one = tool(
        "set_service_env",
        "Set one environment variable of a service",
        &["service_id", "key", "value"],
    );
    assert_eq!(class_of(one), (Category::Write, Risk::Medium));
}

#[test]
fn journals_transactions_and_help_desk_agents_are_money_and_access() {
    let journal = tool(
        "create_journal",
        "Create a journal entry in the ledger.",
        &["lines", "date"],
    );
    assert_eq!(class_of(journal), (Category::Write, Risk::High));
    let transaction = tool(
        "update_transaction",
        "Update a bank transaction.",
        &["transaction_id", "amount"],
    );
    assert_eq!(class_of(transaction), (Category::Write, Risk::High));
    let agent = tool(
        "create_agent",
        "Create an agent in the help desk.",
        &["agent_fields"],
    );
    assert_eq!(class_of(agent), (Category::Write, Risk::High));
    let contact = tool(
        "create_contact",
        "Create a contact in the help desk.",
        &["contact_fields"],
    );
    assert_eq!(class_of(contact), (Category::Write, Risk::Medium));
}

#[test]
fn a_caller_written_query_in_a_graph_query_language_is_execute_even_on_a_read() {
    let mut read = tool(
        "read_graph",
        "Execute a read Cypher query on the graph.",
        &["query", "params"],
    );
    read["annotations"] = json!({"readOnlyHint": true});
    assert_eq!(class_of(read), (Category::Execute, Risk::Medium));
    let write = tool(
        "write_graph",
        "Execute a write Cypher query on the graph.",
        &["query", "params"],
    );
    assert_eq!(class_of(write), (Category::Execute, Risk::High));
    let search = tool(
        "search_nodes",
        "Search the graph's nodes by name.",
        &["query"],
    );
    assert_eq!(class_of(search), (Category::Read, Risk::Low));
}

#[test]
fn a_select_statement_is_a_read_only_statement() {
    let select = tool(
        "run_report_query",
        "Execute a SELECT query on the SQLite database.",
        &["query"],
    );
    assert_eq!(class_of(select), (Category::Execute, Risk::Medium));
    let any = tool(
        "run_query",
        "Execute a query on the SQLite database.",
        &["query"],
    );
    assert_eq!(class_of(any), (Category::Execute, Risk::High));
}

#[test]
fn a_download_that_saves_locally_only_when_asked_is_a_read_and_one_that_always_saves_is_a_write() {
    let mut optional = tool(
        "download_report",
        "Download a report by its ID. Returns the content as base64.",
        &["report_id"],
    );
    optional["inputSchema"]["properties"]["save_path"] = json!({
        "type": "string",
        "description": "Local directory to save the report to. If omitted, returns the content."
    });
    assert_eq!(class_of(optional), (Category::Read, Risk::Low));
    let mut always = tool(
        "download_report",
        "Download a report to a local directory.",
        &["report_id"],
    );
    always["inputSchema"]["properties"]["save_path"] = json!({"type": "string", "description": "Directory to save to (defaults to the current one)"});
    assert_eq!(class_of(always).0, Category::Write);
}

#[test]
fn asking_an_assistant_about_a_file_is_a_read() {
    let ask = tool(
        "docs_ask_tool",
        "Ask the assistant a question about a document.",
        &["document_id", "prompt"],
    );
    assert_eq!(class_of(ask), (Category::Read, Risk::Low));
}

#[test]
fn starting_or_stopping_a_recording_of_the_callers_page_observes_while_starting_a_job_runs() {
    let start = tool(
        "page_start_recording",
        "Start recording the current page.",
        &["page_id"],
    );
    assert_eq!(class_of(start), (Category::Read, Risk::Low));
    let stop = tool(
        "tracing_stop",
        "Stop the active trace of the page.",
        &["page_id"],
    );
    assert_eq!(class_of(stop), (Category::Read, Risk::Low));
    let job = tool("start_job", "Start a job.", &["job_id"]);
    assert_eq!(class_of(job).0, Category::Execute);
}

#[test]
fn choosing_the_page_later_calls_act_on_and_closing_a_page_are_low_writes() {
    let select = tool(
        "select_tab",
        "Select a tab as the context for future tool calls.",
        &["tab_id"],
    );
    assert_eq!(class_of(select).1, Risk::Low);
    let close = tool("close_page", "Close a page of the browser.", &["page_id"]);
    assert_eq!(class_of(close), (Category::Write, Risk::Low));
    let choose = tool(
        "select_plan",
        "Select the plan the account is billed on.",
        &["plan_id"],
    );
    assert_ne!(class_of(choose).1, Risk::Low);
}

#[test]
fn creating_an_empty_workspace_sheet_or_chart_is_additive_and_a_form_is_not() {
    for name in [
        "create_workspace",
        "create_sheet",
        "add_chart",
        "create_dashboard",
    ] {
        let created = tool(name, "Create it.", &["title"]);
        assert_eq!(class_of(created), (Category::Write, Risk::Low), "{name}");
    }
    let form = tool("create_form", "Create a form.", &["title"]);
    assert_eq!(class_of(form), (Category::Write, Risk::Medium));
}

#[test]
fn upgrading_a_chart_release_installs_its_code_and_a_patch_body_is_a_whole_spec() {
    let upgrade = tool(
        "upgrade_release_chart",
        "Upgrade a release to a new chart version.",
        &["release", "chart", "values"],
    );
    assert_eq!(class_of(upgrade), (Category::Execute, Risk::High));
    let patch = tool(
        "object_patch",
        "Update fields of an object with a JSON merge patch.",
        &["object", "patchData"],
    );
    assert_eq!(class_of(patch), (Category::Write, Risk::High));
    let fields = tool(
        "object_update",
        "Update fields of an object.",
        &["object", "fields"],
    );
    assert_eq!(class_of(fields), (Category::Write, Risk::Medium));
}

#[test]
fn deleting_everything_or_a_caller_chosen_type_offering_projects_is_critical_and_a_filtered_delete_is_not(
) {
    let everything = tool("purge_managed", "Purge all managed resources.", &[]);
    assert_eq!(
        class_of(everything),
        (Category::Destructive, Risk::Critical)
    );
    let mut typed = tool(
        "delete_item",
        "Delete an item of the chosen type by its ID.",
        &["id"],
    );
    typed["inputSchema"]["properties"]["type"] =
        json!({"type": "string", "enum": ["task", "comment", "project"]});
    assert_eq!(class_of(typed), (Category::Destructive, Risk::Critical));
    let filtered = tool(
        "delete_records",
        "Delete all records that match the filter.",
        &["table", "filter"],
    );
    assert_eq!(class_of(filtered), (Category::Destructive, Risk::High));
}

#[test]
fn a_statement_read_only_only_by_default_is_a_high_execute() {
    let by_default = tool(
        "run_statement",
        "Execute SQL statements. Statements run in read-only mode by default.",
        &["sql"],
    );
    assert_eq!(class_of(by_default), (Category::Execute, Risk::High));
    let read_only = tool(
        "run_statement",
        "Execute read-only SQL statements.",
        &["sql"],
    );
    assert_eq!(class_of(read_only), (Category::Execute, Risk::Medium));
}

#[test]
fn round_five_signals_stay_off_the_look_alikes_of_other_servers() {
    // A secret phrase qualifying another noun names no secret returned.
    let usage = tool(
        "get_usage",
        "Get API key usage for the current month.",
        &["month"],
    );
    assert_eq!(class_of(usage), (Category::Read, Risk::Low));
    // Starting a meeting's recording is not the caller observing its own page.
    let meeting = tool(
        "start_meeting_recording",
        "Start the cloud recording of a meeting.",
        &["meeting_id"],
    );
    assert_ne!(class_of(meeting).0, Category::Read);
    // Clearing every notification loses nothing anyone relies on.
    let notifications = tool("clear_inbox", "Clear all notifications.", &[]);
    assert_ne!(class_of(notifications).1, Risk::Critical);
    // An AI agent is configuration, not a staff account.
    let ai = tool(
        "create_agent",
        "Create an AI agent with a prompt and a model.",
        &["name", "prompt", "model"],
    );
    assert_ne!(class_of(ai).1, Risk::High);
    // A search of a database's documentation runs no statement.
    let mut docs = tool(
        "search_docs",
        "Search the MySQL documentation for a topic.",
        &["query"],
    );
    docs["annotations"] = json!({"readOnlyHint": true});
    assert_eq!(class_of(docs), (Category::Read, Risk::Low));
}

#[test]
fn feedback_sent_to_the_tools_makers_is_a_low_write_and_reading_feedback_is_a_read() {
    let send = tool(
        "search_feedback",
        "Send feedback on a previous search so the results can improve.",
        &["search_id", "rating"],
    );
    assert_eq!(class_of(send), (Category::Write, Risk::Low));
    let report = tool(
        "report_issue",
        "Report a bug or share feedback about this integration.",
        &["text"],
    );
    assert_eq!(class_of(report), (Category::Write, Risk::Low));
    let list = tool(
        "list_feedback",
        "List the feedback customers left on a product.",
        &["product_id"],
    );
    assert_eq!(class_of(list), (Category::Read, Risk::Low));
}

#[test]
fn starting_a_session_on_a_url_is_a_visit_while_building_from_a_url_runs_it() {
    let session = tool(
        "startBrowserSession",
        "Start a remote browser session on a device.",
        &["device", "targetUrl"],
    );
    assert_eq!(class_of(session), (Category::Network, Risk::Medium));
    let build = tool(
        "build_from_source",
        "Build an image from the code at a source URL.",
        &["sourceUrl", "tag"],
    );
    assert_eq!(class_of(build).0, Category::Execute);
    let script = tool(
        "start_page_session",
        "Start a session on a page and run a script in it.",
        &["pageUrl", "script"],
    );
    assert_eq!(class_of(script).0, Category::Execute);
}

#[test]
fn a_template_named_by_its_slug_is_a_choice_and_a_template_body_is_a_spec() {
    let mut named = tool(
        "create_case",
        "Create a test case in the project.",
        &["project", "name"],
    );
    named["inputSchema"]["properties"]["template"] =
        json!({"type": "string", "description": "Template slug only: 'steps' or 'text'."});
    assert_eq!(class_of(named), (Category::Write, Risk::Medium));
    let mut body = tool(
        "create_case",
        "Create a test case in the project.",
        &["project", "name"],
    );
    body["inputSchema"]["properties"]["template"] =
        json!({"type": "string", "description": "The case's template, as YAML."});
    assert_eq!(class_of(body), (Category::Write, Risk::High));
}
