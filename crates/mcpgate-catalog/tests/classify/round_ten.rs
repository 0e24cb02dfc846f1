//! Round 10 (issue 14): idioms among the eighth held-out set's misses, read in general terms.
//! A read with a boolean switch that shows masked values returns secrets; a preview or
//! estimate of a change makes none. Pinned on made-up tools outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::{assess, class_of};

#[test]
fn a_read_with_a_boolean_switch_that_reveals_masked_values_is_a_credential_read() {
    let with_switch = json!({
        "name": "greenhouse_inspect",
        "description": "Get the settings of a greenhouse. Sensor passwords are masked unless reveal_settings is true.",
        "inputSchema": {"type": "object", "properties": {
            "greenhouse_id": {"type": "string"},
            "reveal_settings": {"type": "boolean", "default": false}
        }, "required": ["greenhouse_id"]}
    });
    assert_eq!(class_of(with_switch), (Category::Credential, Risk::High));
}

#[test]
fn a_read_whose_reveal_argument_is_not_a_switch_stays_a_read() {
    let not_a_switch = json!({
        "name": "greenhouse_inspect",
        "description": "Get the settings of a greenhouse.",
        "inputSchema": {"type": "object", "properties": {
            "greenhouse_id": {"type": "string"},
            "reveal_style": {"type": "string", "enum": ["fade", "slide"]}
        }, "required": ["greenhouse_id"]}
    });
    let assessment = assess(not_a_switch.clone());
    assert_eq!(class_of(not_a_switch), (Category::Read, Risk::Low));
    assert!(
        assessment.confidence.needs_review(),
        "a reveal argument no rule took asks for review: {:?}",
        assessment.confidence.reasons
    );
}

#[test]
fn a_read_naming_a_secret_field_it_does_not_say_it_returns_asks_for_review() {
    let hinted = json!({
        "name": "get_doorbell",
        "description": "Retrieve a doorbell by its ID, with its chime and its ringSecret settings.",
        "inputSchema": {"type": "object", "properties": {
            "doorbell_id": {"type": "string"}
        }, "required": ["doorbell_id"]}
    });
    let plain = json!({
        "name": "get_doorbell",
        "description": "Retrieve a doorbell by its ID, with its chime settings.",
        "inputSchema": {"type": "object", "properties": {
            "doorbell_id": {"type": "string"}
        }, "required": ["doorbell_id"]}
    });
    assert_eq!(class_of(hinted.clone()).0, Category::Read);
    assert!(
        !assess(plain).confidence.needs_review(),
        "precondition: the same read without the field is not sent to review"
    );
    assert!(
        assess(hinted).confidence.needs_review(),
        "a secret-named field no rule took asks for review"
    );
}

#[test]
fn a_preview_of_a_change_is_a_read() {
    let preview = json!({
        "name": "preview_invoice_update",
        "description": "Preview what an invoice would look like after an update, without changing it.",
        "inputSchema": {"type": "object", "properties": {
            "invoice_id": {"type": "string"},
            "items": {"type": "array", "items": {"type": "object"}}
        }, "required": ["invoice_id"]}
    });
    assert_eq!(class_of(preview), (Category::Read, Risk::Low));
    let estimate = json!({
        "name": "estimate_order_create",
        "description": "Estimate the totals of an order without placing it.",
        "inputSchema": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object"}}
        }, "required": ["items"]}
    });
    assert_eq!(class_of(estimate), (Category::Read, Risk::Low));
}

#[test]
fn a_read_whose_description_names_a_secret_field_as_returned_is_a_credential_read() {
    let returned = json!({
        "name": "get_doorbell_hook",
        "description": "Retrieve a doorbell hook by its ID. The ringSigningKey is returned for signature checks; store it securely.",
        "inputSchema": {"type": "object", "properties": {
            "hook_id": {"type": "string"}
        }, "required": ["hook_id"]},
        "annotations": {"readOnlyHint": true}
    });
    assert_eq!(class_of(returned), (Category::Credential, Risk::High));
    let not_returned = json!({
        "name": "get_doorbell_hook",
        "description": "Retrieve a doorbell hook by its ID. The ringSigningKey is not returned.",
        "inputSchema": {"type": "object", "properties": {
            "hook_id": {"type": "string"}
        }, "required": ["hook_id"]},
        "annotations": {"readOnlyHint": true}
    });
    assert_eq!(class_of(not_returned), (Category::Read, Risk::Low));
}

#[test]
fn a_command_tool_taking_a_whole_cli_command_line_as_an_args_array_is_execute_critical() {
    let router = json!({
        "name": "run_kiln_command",
        "description": "Executes a kiln CLI command.",
        "inputSchema": {"type": "object", "properties": {
            "args": {"type": "array", "items": {"type": "string"}}
        }, "required": ["args"]}
    });
    assert_eq!(class_of(router), (Category::Execute, Risk::Critical));
}

#[test]
fn creating_a_session_whose_links_sign_someone_in_mints_a_credential() {
    let portal = json!({
        "name": "create_member_lounge_session",
        "description": "Create a lounge session for a club member. Authenticated links are returned which sign the member in.",
        "inputSchema": {"type": "object", "properties": {
            "member_id": {"type": "string"}
        }, "required": ["member_id"]}
    });
    assert_eq!(class_of(portal), (Category::Credential, Risk::Critical));
}

#[test]
fn a_random_password_generated_from_options_alone_is_a_plain_read() {
    let local = json!({
        "name": "password_generate",
        "description": "Generate a random password of the given length, with or without digits.",
        "inputSchema": {"type": "object", "properties": {
            "length": {"type": "integer"},
            "digits": {"type": "boolean"}
        }}
    });
    assert_eq!(class_of(local), (Category::Read, Risk::Low));
    let for_an_account = json!({
        "name": "password_generate",
        "description": "Generate a random password for an account and set it.",
        "inputSchema": {"type": "object", "properties": {
            "account_id": {"type": "string"},
            "length": {"type": "integer"}
        }, "required": ["account_id"]}
    });
    assert_ne!(class_of(for_an_account).1, Risk::Low);
}

#[test]
fn editing_an_item_whose_fields_can_be_set_concealed_changes_a_credential() {
    let edit = json!({
        "name": "locker_entry_edit",
        "description": "Edit an existing locker entry: its title and its fields.",
        "inputSchema": {"type": "object", "properties": {
            "entry_id": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "object", "properties": {
                "label": {"type": "string"},
                "type": {"type": "string", "enum": ["text", "concealed"]},
                "value": {"type": "string"}
            }}}
        }, "required": ["entry_id"]}
    });
    assert_eq!(class_of(edit), (Category::Credential, Risk::Critical));
}
