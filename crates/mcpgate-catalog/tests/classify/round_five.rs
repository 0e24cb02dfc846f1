//! Round 5 (issue 14): general causes of the fourth held-out set's worst misses (what a read
//! returns, what a caller-chosen path runs, a delete named only in prose, consequences without
//! a high word), pinned on tools of the same shapes that are not in the evaluation set, each
//! against its contrast.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::{class_of, tool};

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

#[test]
fn a_write_that_then_runs_the_callers_image_or_command_is_execute() {
    let recreate = tool(
        "recreate_worker",
        "Stop and remove a worker, then run a new worker.",
        &["worker_id", "image", "command"],
    );
    assert_eq!(class_of(recreate).0, Category::Execute);
    let rename = tool(
        "rename_job",
        "Rename a job, then run it.",
        &["job_id", "new_name"],
    );
    assert_ne!(class_of(rename).0, Category::Execute);
}
