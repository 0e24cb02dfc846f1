//! Round 6 (issue 14): structural causes of the fifth held-out set's worst misses (a gateway
//! named by service and operation, a secret an edit sets through a plain field, consequences
//! stated as warnings), pinned on tools of the same shapes that are not in the evaluation
//! set, each against its contrast.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::{class_of, tool};

#[test]
fn a_free_service_and_operation_with_a_free_payload_is_a_gateway_to_the_whole_api() {
    let gateway = json!({
        "name": "invoke_operation",
        "description": "Invoke an operation of the Acme cloud. Available services: billing, compute, storage.",
        "inputSchema": {"type": "object", "properties": {
            "service": {"type": "string", "description": "Service name, e.g. 'billing'"},
            "operation": {"type": "string", "description": "Operation name, e.g. 'listInvoices'"},
            "payload": {"type": "object", "additionalProperties": true}
        }, "required": ["service", "operation"]}
    });
    assert_eq!(class_of(gateway), (Category::Execute, Risk::Critical));
    // The same shape with the operations listed is a choice among named actions, not a gateway.
    let listed = json!({
        "name": "invoke_operation",
        "description": "Invoke an operation of the Acme cloud.",
        "inputSchema": {"type": "object", "properties": {
            "service": {"type": "string"},
            "operation": {"type": "string", "enum": ["list_invoices", "get_invoice"]},
            "payload": {"type": "object", "additionalProperties": true}
        }, "required": ["service", "operation"]}
    });
    assert_ne!(class_of(listed), (Category::Execute, Risk::Critical));
    // Without a free-form payload the operation has nothing to act on beyond its name.
    let no_payload = json!({
        "name": "get_service_status",
        "description": "Get the status of one operation of a service.",
        "inputSchema": {"type": "object", "properties": {
            "service": {"type": "string"},
            "operation": {"type": "string"}
        }, "required": ["service", "operation"]}
    });
    assert_eq!(class_of(no_payload), (Category::Read, Risk::Low));
}

#[test]
fn an_edit_that_sets_a_plain_password_or_totp_field_of_an_entry_replaces_a_way_in() {
    let nested = json!({
        "name": "update_entry",
        "description": "Update an entry of the team's shared vault.",
        "inputSchema": {"type": "object", "properties": {
            "entry_id": {"type": "string"},
            "title": {"type": "string"},
            "credentials": {"type": "object", "properties": {
                "username": {"type": "string"},
                "totp": {"type": "string", "description": "One-time code seed"}
            }}
        }, "required": ["entry_id"]}
    });
    assert_eq!(class_of(nested), (Category::Credential, Risk::Critical));
    let top = json!({
        "name": "configure_host",
        "description": "Configure first-boot settings of a host.",
        "inputSchema": {"type": "object", "properties": {
            "host": {"type": "string"},
            "ssh_keys": {"type": "string"},
            "timezone": {"type": "string"}
        }, "required": ["host"]}
    });
    assert_eq!(class_of(top), (Category::Credential, Risk::Critical));
    // A login takes the password the caller signs in with; it sets none.
    let login = json!({
        "name": "login",
        "description": "Sign in to the vault.",
        "inputSchema": {"type": "object", "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"}
        }, "required": ["username", "password"]}
    });
    assert_ne!(class_of(login), (Category::Credential, Risk::Critical));
    // An edit without a secret field stays a write.
    let plain = tool(
        "update_entry_title",
        "Update the title of an entry.",
        &["entry_id", "title"],
    );
    assert_eq!(class_of(plain).0, Category::Write);
}

#[test]
fn a_write_whose_description_warns_of_what_it_cannot_take_back_is_one_step_higher() {
    let warned = tool(
        "update_volume_format",
        "Update a volume to the compact format. IRREVERSIBLE: the old format cannot be read back.",
        &["volume_id"],
    );
    let unwarned = tool(
        "update_volume_format",
        "Update a volume to the compact format.",
        &["volume_id"],
    );
    let (category, risk) = class_of(unwarned);
    assert_eq!(category, Category::Write, "precondition: a plain write");
    assert!(risk < Risk::High, "precondition: below high unwarned");
    assert_eq!(class_of(warned), (Category::Write, Risk::High));
    // A promise of no loss is no warning.
    let promise = tool(
        "update_volume_format",
        "Update a volume to the compact format. This avoids the data loss a copy would risk.",
        &["volume_id"],
    );
    assert_eq!(class_of(promise), (category, risk));
}

#[test]
fn transforming_a_stored_object_named_by_its_id_writes_while_generating_from_a_prompt_reads() {
    let stored = tool(
        "transform_photo",
        "Generate a resized, watermarked variant of a stored photo.",
        &["photoId", "instructions"],
    );
    assert_eq!(class_of(stored), (Category::Write, Risk::Medium));
    let translated = tool(
        "translate_article",
        "Translate an article into another language.",
        &["articleIds", "language"],
    );
    assert_eq!(class_of(translated).0, Category::Write);
    // Text made from a prompt alone names nothing stored.
    let prompt = tool(
        "translate_text",
        "Translate a text into another language.",
        &["text", "language"],
    );
    assert_eq!(class_of(prompt), (Category::Read, Risk::Low));
}

#[test]
fn a_deletion_taking_all_its_own_versions_is_no_cascade_but_one_taking_what_it_holds_is() {
    let versions = tool(
        "delete_template",
        "Delete a template and all its revisions.",
        &["template_id"],
    );
    assert_eq!(class_of(versions), (Category::Destructive, Risk::High));
    let contents = tool(
        "delete_template_group",
        "Delete a template group and all templates in it.",
        &["group_id"],
    );
    assert_eq!(class_of(contents), (Category::Destructive, Risk::Critical));
}
