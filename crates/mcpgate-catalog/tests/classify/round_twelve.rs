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

#[test]
fn a_record_api_over_any_table_of_the_service_reaches_its_accounts_and_scripts() {
    let table = json!({"type": "string", "description": "The help desk table name (e.g. 'desk_agent', 'ticket')"});
    let list = json!({
        "name": "desk_list_records",
        "description": "List records from any help desk table.",
        "inputSchema": {"type": "object", "properties": {
            "table_name": table, "limit": {"type": "integer"}
        }, "required": ["table_name"]}
    });
    assert_eq!(class_of(list), (Category::Read, Risk::Medium));
    let create = json!({
        "name": "desk_create_record",
        "description": "Create a record in a help desk table.",
        "inputSchema": {"type": "object", "properties": {
            "table_name": table, "fields": {"type": "object"}
        }, "required": ["table_name"]}
    });
    assert_eq!(class_of(create), (Category::Write, Risk::High));
    let delete = json!({
        "name": "desk_delete_record",
        "description": "Delete a record from a help desk table.",
        "inputSchema": {"type": "object", "properties": {
            "table_name": table, "record_id": {"type": "string"}
        }, "required": ["table_name", "record_id"]}
    });
    assert_eq!(class_of(delete), (Category::Destructive, Risk::Critical));
    let schema = json!({
        "name": "desk_get_table_schema",
        "description": "Get the columns of a help desk table.",
        "inputSchema": {"type": "object", "properties": {"table_name": table}}
    });
    assert_eq!(class_of(schema), (Category::Read, Risk::Low));
}

#[test]
fn a_record_api_over_a_listed_set_of_business_types_stays_at_the_base() {
    let create = json!({
        "name": "crm_create_objects",
        "description": "Create objects of one type in the CRM.",
        "inputSchema": {"type": "object", "properties": {
            "object_type": {"type": "string", "description": "Valid values include: contacts, companies, deals"},
            "inputs": {"type": "array", "items": {"type": "object"}}
        }, "required": ["object_type"]}
    });
    assert_eq!(class_of(create), (Category::Write, Risk::Medium));
}

#[test]
fn port_forwards_address_lists_and_rule_edits_change_who_reaches_what() {
    let forward = json!({
        "name": "create_edge_nat_mapping",
        "description": "Create a NAT mapping on the edge box, such as a port forward.",
        "inputSchema": {"type": "object", "properties": {
            "to_address": {"type": "string"}, "to_port": {"type": "string"}
        }}
    });
    assert_eq!(class_of(forward), (Category::Write, Risk::High));
    let listed = json!({
        "name": "append_address_list_item",
        "description": "Append an address to a firewall address list on the edge box.",
        "inputSchema": {"type": "object", "properties": {
            "list": {"type": "string"}, "address": {"type": "string"}
        }}
    });
    assert_eq!(class_of(listed), (Category::Write, Risk::High));
    let edited = json!({
        "name": "update_edge_firewall_rule",
        "description": "Change fields on an existing firewall rule of the edge box.",
        "inputSchema": {"type": "object", "properties": {
            "rule_id": {"type": "string"}, "action": {"type": "string"}, "dst_port": {"type": "string"}
        }}
    });
    assert_eq!(class_of(edited), (Category::Write, Risk::High));
    let relabelled = json!({
        "name": "update_edge_firewall",
        "description": "Change the title of a firewall of the edge box.",
        "inputSchema": {"type": "object", "properties": {
            "firewall_id": {"type": "string"}, "title": {"type": "string"}
        }}
    });
    assert_eq!(class_of(relabelled), (Category::Write, Risk::Medium));
}

#[test]
fn deleting_a_logged_entry_or_a_seat_mapping_is_cheap_to_redo() {
    let entry = json!({
        "name": "delete_fuel_log_entry",
        "description": "Delete one entry of a vehicle's fuel log.",
        "inputSchema": {"type": "object", "properties": {
            "entry_id": {"type": "string"}
        }, "required": ["entry_id"]}
    });
    assert_eq!(class_of(entry), (Category::Destructive, Risk::Medium));
    let mapping = json!({
        "name": "delete_seat_mapping",
        "description": "Delete the mapping of a badge to a desk seat.",
        "inputSchema": {"type": "object", "properties": {
            "mapping_id": {"type": "string"}
        }, "required": ["mapping_id"]}
    });
    assert_eq!(class_of(mapping), (Category::Destructive, Risk::Medium));
}

#[test]
fn a_deletion_glossed_as_an_archive_keeps_the_object() {
    let archived = json!({
        "name": "delete_supplier",
        "description": "Delete (archive) a supplier. Hidden from active lists; its orders are kept.",
        "inputSchema": {"type": "object", "properties": {
            "supplier_id": {"type": "string"}
        }, "required": ["supplier_id"]}
    });
    assert_eq!(class_of(archived), (Category::Write, Risk::Medium));
    let deleted = json!({
        "name": "delete_supplier",
        "description": "Delete a supplier permanently.",
        "inputSchema": {"type": "object", "properties": {
            "supplier_id": {"type": "string"}
        }, "required": ["supplier_id"]}
    });
    assert_eq!(class_of(deleted).0, Category::Destructive);
}

#[test]
fn a_patch_of_declared_fields_is_an_edit_and_a_free_patch_a_specification() {
    let fields = json!({
        "name": "update_recipe_card",
        "description": "Patch selected fields on a recipe card.",
        "inputSchema": {"type": "object", "properties": {
            "card_id": {"type": "integer"},
            "patch": {"type": "object", "additionalProperties": false, "properties": {
                "title": {"type": "string"}, "servings": {"type": "integer"}
            }}
        }, "required": ["card_id", "patch"]}
    });
    assert_eq!(class_of(fields), (Category::Write, Risk::Medium));
    let free = json!({
        "name": "update_recipe_card",
        "description": "Patch a recipe card.",
        "inputSchema": {"type": "object", "properties": {
            "card_id": {"type": "integer"},
            "patch": {"type": "object", "description": "Patch data as a JSON object"}
        }, "required": ["card_id", "patch"]}
    });
    assert_eq!(class_of(free), (Category::Write, Risk::High));
}

#[test]
fn a_list_replaced_wholesale_loses_what_is_not_sent_back() {
    let wholesale = json!({
        "name": "update_recipe_tags",
        "description": "Set a recipe's tags. The list replaces the current tags wholesale.",
        "inputSchema": {"type": "object", "properties": {
            "recipe_id": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}}
        }, "required": ["recipe_id", "tags"]}
    });
    assert_eq!(class_of(wholesale), (Category::Write, Risk::High));
}

#[test]
fn any_bulk_operation_on_a_tool_marked_destructive_is_labelled_by_its_worst() {
    let bulk = json!({
        "name": "bulk_edit_shelf_labels",
        "description": "Apply a bulk operation to a set of pantry shelf labels.",
        "annotations": {"destructiveHint": true},
        "inputSchema": {"type": "object", "properties": {
            "operation": {"type": "string"},
            "ids": {"type": "array", "items": {"type": "integer"}},
            "parameters": {"type": "object"}
        }, "required": ["operation", "ids"]}
    });
    assert_eq!(class_of(bulk), (Category::Destructive, Risk::High));
}

#[test]
fn a_local_dns_answer_for_one_name_is_the_write_base() {
    let local = json!({
        "name": "create_office_dns_override",
        "description": "Create a host override in the office resolver.",
        "inputSchema": {"type": "object", "properties": {
            "host": {"type": "string"}, "domain": {"type": "string"}, "ip": {"type": "string"}
        }, "required": ["host", "domain", "ip"]}
    });
    assert_eq!(class_of(local), (Category::Write, Risk::Medium));
}

#[test]
fn a_kind_chosen_from_a_closed_list_without_secrets_is_no_listing_of_any_kind() {
    let closed = json!({
        "name": "get_free_slots",
        "description": "List free slots in a parking garage.",
        "annotations": {"readOnlyHint": true},
        "inputSchema": {"type": "object", "properties": {
            "garage_id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["bays", "chargers", "lockers"]}
        }, "required": ["garage_id", "kind"]}
    });
    assert_eq!(class_of(closed), (Category::Read, Risk::Low));
    let open = json!({
        "name": "get_cluster_objects",
        "description": "List objects in a cluster.",
        "annotations": {"readOnlyHint": true},
        "inputSchema": {"type": "object", "properties": {
            "kind": {"type": "string", "description": "Any object kind, e.g. Pod or Secret"}
        }, "required": ["kind"]}
    });
    assert_eq!(class_of(open), (Category::Read, Risk::Medium));
}

#[test]
fn a_recurring_invoice_bills_the_client_every_period_unattended() {
    let recurring = json!({
        "name": "create_recurring_bill",
        "description": "Create a recurring bill for a tenant of the co-working space.",
        "inputSchema": {"type": "object", "properties": {
            "tenant_id": {"type": "string"}, "frequency": {"type": "string"}, "amount": {"type": "number"}
        }, "required": ["tenant_id", "frequency"]}
    });
    assert_eq!(class_of(recurring), (Category::Write, Risk::High));
}

#[test]
fn starting_or_stopping_a_timer_records_time_and_runs_nothing() {
    let start = json!({
        "name": "start_timer",
        "description": "Start a new timer for a studio booking.",
        "inputSchema": {"type": "object", "properties": {
            "booking_id": {"type": "string"}, "note": {"type": "string"}
        }}
    });
    assert_eq!(class_of(start), (Category::Write, Risk::Medium));
    let stop = json!({
        "name": "stop_timer",
        "description": "Stop the running timer of a studio booking.",
        "inputSchema": {"type": "object", "properties": {
            "timer_id": {"type": "string"}
        }, "required": ["timer_id"]}
    });
    assert_eq!(class_of(stop), (Category::Write, Risk::Low));
}

#[test]
fn running_a_defined_report_reads_what_it_sums_up() {
    let report = json!({
        "name": "run_greenhouse_report",
        "description": "Execute a saved report of the greenhouse log.",
        "inputSchema": {"type": "object", "properties": {
            "report_name": {"type": "string"}, "filters": {"type": "string"}
        }, "required": ["report_name"]}
    });
    assert_eq!(class_of(report), (Category::Read, Risk::Low));
}

#[test]
fn creating_a_filing_label_or_a_report_adds_what_nothing_depends_on_yet() {
    let label = json!({
        "name": "create_archive_correspondent",
        "description": "Create a new correspondent for the parish archive.",
        "inputSchema": {"type": "object", "properties": {"name": {"type": "string"}}}
    });
    assert_eq!(class_of(label), (Category::Write, Risk::Low));
    let report = json!({
        "name": "create_harvest_report",
        "description": "Create a report of the season's harvest for download.",
        "inputSchema": {"type": "object", "properties": {"season": {"type": "string"}}}
    });
    assert_eq!(class_of(report), (Category::Write, Risk::Low));
}

#[test]
fn uploading_bytes_passed_inline_adds_them_to_the_services_own_store() {
    let inline = json!({
        "name": "upload_scan",
        "description": "Upload a scanned receipt to the expense archive.",
        "inputSchema": {"type": "object", "properties": {
            "filename": {"type": "string"}, "content_base64": {"type": "string"}
        }, "required": ["filename", "content_base64"]}
    });
    assert_eq!(class_of(inline), (Category::Write, Risk::Medium));
    let from_disk = json!({
        "name": "upload_scan",
        "description": "Upload a scanned receipt to the expense archive.",
        "inputSchema": {"type": "object", "properties": {
            "file_path": {"type": "string"}
        }, "required": ["file_path"]}
    });
    assert_eq!(class_of(from_disk).0, Category::Network);
}

#[test]
fn trading_an_authorization_code_for_kept_tokens_changes_whose_account_is_used() {
    let exchange = json!({
        "name": "finish_ledger_login",
        "description": "Finish signing in with the authorization code from the redirect URL.",
        "inputSchema": {"type": "object", "properties": {
            "code": {"type": "string"}
        }, "required": ["code"]}
    });
    assert_eq!(class_of(exchange), (Category::Credential, Risk::Critical));
}

#[test]
fn an_oauth_callback_taking_the_code_is_a_credential_exchange() {
    let callback = json!({
        "name": "ledger_oauth_callback",
        "description": "Handle the ledger's OAuth callback.",
        "inputSchema": {"type": "object", "properties": {
            "code": {"type": "string", "description": "OAuth authorization code"}
        }, "required": ["code"]}
    });
    assert_eq!(class_of(callback), (Category::Credential, Risk::Critical));
}

#[test]
fn converting_a_stored_object_into_another_kind_creates_it() {
    let convert = json!({
        "name": "convert_quote_to_order",
        "description": "Convert an accepted quote into a purchase order.",
        "inputSchema": {"type": "object", "properties": {
            "quote_id": {"type": "integer"}
        }, "required": ["quote_id"]}
    });
    assert_eq!(class_of(convert), (Category::Write, Risk::Medium));
    let value = json!({
        "name": "convert_length",
        "description": "Convert a length between units.",
        "inputSchema": {"type": "object", "properties": {
            "value": {"type": "number"}, "to_unit": {"type": "string"}
        }}
    });
    assert_eq!(class_of(value), (Category::Read, Risk::Low));
}

#[test]
fn applying_every_staged_change_at_once_is_high() {
    let apply = json!({
        "name": "commit_changes",
        "description": "Commit all staged changes of the gateway's routing table.",
        "inputSchema": {"type": "object", "properties": {
            "confirm": {"type": "boolean"}
        }}
    });
    assert_eq!(class_of(apply), (Category::Write, Risk::High));
}

#[test]
fn a_change_that_can_cut_the_connection_to_the_device_is_high() {
    let port = json!({
        "name": "set_port_enabled",
        "description": "Turn a switch port on or off. Turning off the port you manage the switch through will cut this connection.",
        "inputSchema": {"type": "object", "properties": {
            "port": {"type": "string"}, "enabled": {"type": "boolean"}
        }, "required": ["port", "enabled"]}
    });
    assert_eq!(class_of(port), (Category::Write, Risk::High));
}
