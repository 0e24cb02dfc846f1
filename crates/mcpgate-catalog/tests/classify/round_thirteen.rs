//! Round 13 (issue 14): idioms among the eleventh held-out set's misses, read in general terms.
//! Pinned on made-up tools outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::class_of;

#[test]
fn a_secret_stores_status_and_its_tokenized_reads_are_no_secret_reads() {
    let status = json!({
        "name": "vault_status",
        "description": "Check the secret store session: token validity, identity and time left.",
        "inputSchema": {"type": "object", "properties": {}}
    });
    assert_eq!(class_of(status), (Category::Read, Risk::Low));
    let tokenized = json!({
        "name": "vault_fetch",
        "description": "Fetch a service's entries from the vault with values tokenized: each is \
                        replaced by a session token. Secret values never leave this machine.",
        "inputSchema": {"type": "object", "properties": {
            "service": {"type": "string"}
        }, "required": ["service"]}
    });
    assert_eq!(class_of(tokenized), (Category::Read, Risk::Medium));
    // Guard: a read that says it returns the values is still a credential read.
    let values = json!({
        "name": "vault_fetch",
        "description": "Fetch a service's entries from the vault: returns the secret values.",
        "inputSchema": {"type": "object", "properties": {
            "service": {"type": "string"}
        }, "required": ["service"]}
    });
    assert_eq!(class_of(values), (Category::Credential, Risk::High));
}

#[test]
fn a_deletions_kind_from_an_enum_deletes_one_of_those_not_any_resource() {
    let from_enum = json!({
        "name": "remove_blocklist",
        "description": "Remove a configured blocklist by URL.",
        "inputSchema": {"type": "object", "properties": {
            "url": {"type": "string"},
            "kind": {"type": "string", "enum": ["block", "allow"]}
        }, "required": ["url"]}
    });
    assert_ne!(class_of(from_enum).1, Risk::Critical);
    // Guard: a free `kind` can name any resource of the service.
    let any_kind = json!({
        "name": "remove_resource",
        "description": "Remove a resource of the cluster.",
        "inputSchema": {"type": "object", "properties": {
            "name": {"type": "string"},
            "kind": {"type": "string"}
        }, "required": ["name", "kind"]}
    });
    assert_eq!(class_of(any_kind), (Category::Destructive, Risk::Critical));
}

#[test]
fn a_pointer_to_another_tool_for_plain_text_reveals_no_secret() {
    let search = json!({
        "name": "notes_field_search",
        "description": "Search notes by structured fields. For plain text use notes_search.",
        "inputSchema": {"type": "object", "properties": {
            "conditions": {"type": "array", "items": {"type": "object"}}
        }}
    });
    assert_eq!(class_of(search), (Category::Read, Risk::Low));
}

#[test]
fn a_container_created_already_holding_items_or_a_urls_contents_is_no_empty_addition() {
    let filled = json!({
        "name": "create_collection",
        "description": "Create a new collection in a library with the given items.",
        "inputSchema": {"type": "object", "properties": {
            "title": {"type": "string"},
            "item_ids": {"type": "array", "items": {"type": "integer"}}
        }, "required": ["title"]}
    });
    assert_eq!(class_of(filled), (Category::Write, Risk::Medium));
    let subscribed = json!({
        "name": "add_block_list",
        "description": "Add a DNS list by URL.",
        "inputSchema": {"type": "object", "properties": {
            "name": {"type": "string"},
            "url": {"type": "string"}
        }, "required": ["name", "url"]}
    });
    assert_ne!(class_of(subscribed).1, Risk::Low);
    // Guards: an empty collection, and a bookmark, which is its URL.
    let empty = json!({
        "name": "create_collection",
        "description": "Create a new, empty collection in a library.",
        "inputSchema": {"type": "object", "properties": {
            "title": {"type": "string"}
        }, "required": ["title"]}
    });
    assert_eq!(class_of(empty), (Category::Write, Risk::Low));
    let bookmark = json!({
        "name": "add_bookmark",
        "description": "Add a bookmark to a channel.",
        "inputSchema": {"type": "object", "properties": {
            "channel": {"type": "string"},
            "url": {"type": "string"}
        }, "required": ["channel", "url"]}
    });
    assert_eq!(class_of(bookmark), (Category::Write, Risk::Low));
}

#[test]
fn adding_removing_or_replacing_an_items_tags_is_a_write_and_everything_else_is_no_cascade() {
    let tags = json!({
        "name": "set_labels",
        "description": "Add, remove, or replace labels on an existing ticket. Everything else on \
                        the ticket is untouched.",
        "inputSchema": {"type": "object", "properties": {
            "ticket": {"type": "string"},
            "labels": {"type": "array", "items": {"type": "string"}},
            "mode": {"type": "string", "enum": ["add", "remove", "replace"]}
        }, "required": ["ticket", "labels"]}
    });
    let (category, risk) = class_of(tags);
    assert_eq!(category, Category::Write);
    assert!(risk <= Risk::Medium, "{risk:?}");
    // Guard: the same modes over a ticket's attachments still delete.
    let attachments = json!({
        "name": "set_attachments",
        "description": "Add, remove, or replace attachments on an existing ticket.",
        "inputSchema": {"type": "object", "properties": {
            "ticket": {"type": "string"},
            "files": {"type": "array", "items": {"type": "string"}},
            "mode": {"type": "string", "enum": ["add", "remove", "replace"]}
        }, "required": ["ticket", "files"]}
    });
    assert_eq!(class_of(attachments).0, Category::Destructive);
}

#[test]
fn a_verb_only_name_over_a_free_entity_is_a_record_api_over_every_entity() {
    let args = json!({"type": "object", "properties": {
        "entity": {"type": "string"},
        "id": {"type": "string"}
    }, "required": ["entity", "id"]});
    let get =
        json!({"name": "books_get", "description": "Get one entity by id.", "inputSchema": args});
    assert_eq!(class_of(get), (Category::Read, Risk::Medium));
    let delete = json!({"name": "books_delete", "description": "Delete an entity by id.", "inputSchema": args});
    assert_eq!(class_of(delete), (Category::Destructive, Risk::Critical));
    // Guard: an entity chosen from a closed list is one of those.
    let listed = json!({
        "name": "books_get",
        "description": "Get one entity by id.",
        "inputSchema": {"type": "object", "properties": {
            "entity": {"type": "string", "enum": ["Invoice", "Bill"]},
            "id": {"type": "string"}
        }, "required": ["entity", "id"]}
    });
    assert_eq!(class_of(listed), (Category::Read, Risk::Low));
}

#[test]
fn running_a_batch_of_creates_updates_and_deletes_is_labelled_by_its_deletions() {
    let batch = json!({
        "name": "crm_batch",
        "description": "Run up to 50 creates, updates and deletes in one request.",
        "inputSchema": {"type": "object", "properties": {
            "operations": {"type": "array", "items": {"type": "object"}}
        }, "required": ["operations"]}
    });
    let (category, risk) = class_of(batch);
    assert_eq!(category, Category::Destructive);
    assert!(risk >= Risk::High, "{risk:?}");
    // Guard: a batch of creates and updates alone deletes nothing.
    let no_deletes = json!({
        "name": "crm_batch",
        "description": "Run up to 50 creates and updates in one request.",
        "inputSchema": {"type": "object", "properties": {
            "operations": {"type": "array", "items": {"type": "object"}}
        }, "required": ["operations"]}
    });
    assert_ne!(class_of(no_deletes).0, Category::Destructive);
}

#[test]
fn a_removal_to_the_trash_or_of_a_reference_alone_is_medium() {
    let trash = json!({
        "name": "library_delete_item",
        "description": "Move a library item to the Trash. Works for any item type. Empty the Trash \
                        in the app for permanent deletion.",
        "inputSchema": {"type": "object", "properties": {"item_key": {"type": "string"}}, "required": ["item_key"]}
    });
    assert_eq!(class_of(trash), (Category::Destructive, Risk::Medium));
    let reference = json!({
        "name": "watchqueue_remove",
        "description": "Remove a GUID from the account's watch queue. Does not delete media.",
        "inputSchema": {"type": "object", "properties": {"guid": {"type": "string"}}, "required": ["guid"]}
    });
    assert_eq!(class_of(reference), (Category::Destructive, Risk::Medium));
    // Guard: the trash or permanent deletion, the caller's choice, can destroy.
    let either = json!({
        "name": "delete_report",
        "description": "Moves a report to trash or permanently deletes it.",
        "inputSchema": {"type": "object", "properties": {
            "report_id": {"type": "string"}, "permanent": {"type": "boolean"}
        }, "required": ["report_id"]}
    });
    assert_eq!(class_of(either), (Category::Destructive, Risk::High));
}

#[test]
fn a_reads_save_path_that_defaults_to_null_saves_only_if_asked() {
    let path = json!({"anyOf": [{"type": "string"}, {"type": "null"}], "default": null});
    let report = json!({
        "name": "books_get_invoices",
        "description": "Get the invoices of a date range.",
        "inputSchema": {"type": "object", "properties": {
            "start": {"type": "string"}, "end": {"type": "string"}, "output_path": path
        }, "required": ["start", "end"]}
    });
    assert_eq!(class_of(report).0, Category::Read);
    // Guard: an export saves by default, whatever its path's default says.
    let export = json!({
        "name": "books_export",
        "description": "Export the ledger as CSV.",
        "inputSchema": {"type": "object", "properties": {"output_path": path}}
    });
    assert_eq!(class_of(export).0, Category::Write);
}

#[test]
fn refreshing_what_is_derived_from_its_source_is_low() {
    let refresh = json!({
        "name": "catalog_refresh",
        "description": "Refresh metadata for one or all catalogs.",
        "inputSchema": {"type": "object", "properties": {"catalog": {"type": "string"}}}
    });
    assert_eq!(class_of(refresh), (Category::Write, Risk::Low));
}

#[test]
fn a_media_players_playback_controls_are_low_writes() {
    let start = json!({
        "name": "speaker_start_playback",
        "description": "Start playback of an album on a speaker.",
        "inputSchema": {"type": "object", "properties": {
            "speaker": {"type": "string"}, "album": {"type": "string"}
        }, "required": ["speaker", "album"]}
    });
    assert_eq!(class_of(start), (Category::Write, Risk::Low));
    let volume = json!({
        "name": "set_volume",
        "description": "Set the playback volume of the active speaker.",
        "inputSchema": {"type": "object", "properties": {"percent": {"type": "integer"}}, "required": ["percent"]}
    });
    assert_eq!(class_of(volume), (Category::Write, Risk::Low));
    // Guard: reading the playback state stays a read.
    let state = json!({
        "name": "get_playback_state",
        "description": "Get the current playback state.",
        "inputSchema": {"type": "object", "properties": {}}
    });
    assert_eq!(class_of(state), (Category::Read, Risk::Low));
}

#[test]
fn a_local_file_read_into_the_service_is_an_upload() {
    let artwork = json!({
        "name": "set_cover",
        "description": "Set the cover of an album. filepath: path to the local image file.",
        "inputSchema": {"type": "object", "properties": {
            "album": {"type": "string"}, "filepath": {"type": "string"}
        }, "required": ["album"]}
    });
    assert_eq!(class_of(artwork), (Category::Network, Risk::High));
    let source = json!({
        "name": "attach_manual",
        "description": "Attach a manual to an item. `source` is a local file path or an http(s) URL.",
        "inputSchema": {"type": "object", "properties": {
            "item": {"type": "string"}, "source": {"type": "string"}
        }, "required": ["item", "source"]}
    });
    assert_eq!(class_of(source).0, Category::Network);
    // Guard: a source that names no file stays a write.
    let link = json!({
        "name": "attach_link",
        "description": "Attach a link to an item. `source` is an http(s) URL.",
        "inputSchema": {"type": "object", "properties": {
            "item": {"type": "string"}, "source": {"type": "string"}
        }, "required": ["item", "source"]}
    });
    assert_eq!(class_of(link).0, Category::Write);
}
