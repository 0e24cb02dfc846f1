//! Round 12 (issue 14): idioms among the tenth held-out set's misses, read in general terms.
//! Pinned on made-up tools outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::class_of;

#[test]
fn reading_any_path_of_a_devices_configuration_can_return_its_secrets() {
    let any_path = json!({
        "name": "switch_read_path",
        "description": "Read any switch configuration path. Read-only: it cannot change the switch.",
        "annotations": {"readOnlyHint": true},
        "inputSchema": {"type": "object", "properties": {
            "path": {"type": "string", "description": "Menu path, e.g. 'vlan/members' or 'snmp/community'."}
        }, "required": ["path"]}
    });
    assert_eq!(class_of(any_path), (Category::Credential, Risk::High));
    let one_path = json!({
        "name": "switch_read_ports",
        "description": "Read the switch's port configuration.",
        "annotations": {"readOnlyHint": true},
        "inputSchema": {"type": "object", "properties": {
            "port": {"type": "string"}
        }}
    });
    assert_eq!(class_of(one_path), (Category::Read, Risk::Low));
}

#[test]
fn calling_any_server_function_by_name_with_free_arguments_is_critical() {
    let any_function = json!({
        "name": "call_function",
        "description": "Call a whitelisted function of the bakery back office.",
        "inputSchema": {"type": "object", "properties": {
            "method": {"type": "string", "description": "Dotted function path, e.g. \"bakery.orders.list\""},
            "http_method": {"type": "string", "description": "GET or POST"},
            "args": {"type": "string", "description": "JSON string of keyword arguments"}
        }, "required": ["method"]}
    });
    assert_eq!(class_of(any_function), (Category::Execute, Risk::Critical));
}
