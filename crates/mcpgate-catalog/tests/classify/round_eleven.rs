//! Round 11 (issue 14): idioms among the ninth held-out set's misses, read in general terms.
//! Pinned on made-up tools outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::class_of;

#[test]
fn listing_or_relabelling_ssh_public_keys_hands_nobody_a_way_in() {
    let list = json!({
        "name": "list_ssh_keys",
        "description": "List the SSH keys registered for the studio's render farm.",
        "inputSchema": {"type": "object", "properties": {
            "farm": {"type": "string"}
        }, "required": ["farm"]}
    });
    assert_eq!(class_of(list), (Category::Read, Risk::Low));
    let relabel = json!({
        "name": "update_ssh_key",
        "description": "Change the title or tags of a render farm's SSH key.",
        "inputSchema": {"type": "object", "properties": {
            "key_id": {"type": "string"},
            "title": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}}
        }, "required": ["key_id"]}
    });
    assert_eq!(class_of(relabel), (Category::Write, Risk::Medium));
}

#[test]
fn registering_an_ssh_key_or_reading_a_private_one_stays_a_credential() {
    let register = json!({
        "name": "add_ssh_key",
        "description": "Register an SSH key that may log in to the render farm.",
        "inputSchema": {"type": "object", "properties": {
            "farm": {"type": "string"},
            "public_key": {"type": "string"}
        }, "required": ["farm", "public_key"]}
    });
    assert_eq!(class_of(register), (Category::Credential, Risk::Critical));
    let replace = json!({
        "name": "update_ssh_key",
        "description": "Change a render farm's SSH key.",
        "inputSchema": {"type": "object", "properties": {
            "key_id": {"type": "string"},
            "key": {"type": "string"}
        }, "required": ["key_id", "key"]}
    });
    assert_eq!(class_of(replace), (Category::Credential, Risk::Critical));
    let private = json!({
        "name": "get_ssh_key",
        "description": "Get a render farm's SSH key pair, private key included.",
        "inputSchema": {"type": "object", "properties": {
            "key_id": {"type": "string"}
        }, "required": ["key_id"]}
    });
    assert_eq!(class_of(private).0, Category::Credential);
}
