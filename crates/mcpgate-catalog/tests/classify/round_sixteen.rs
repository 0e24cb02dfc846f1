//! Round 16 (issue 14): idioms among the fourteenth held-out set's misses (local office
//! documents: Word, Excel, PowerPoint), read in general terms. Pinned on made-up tools outside
//! the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::class_of;

#[test]
fn merging_a_tables_cells_lays_out_a_document_and_merging_a_branch_still_gates_what_ships() {
    let cells = json!({
        "name": "merge_grid_cells",
        "description": "Merge the cells of a rectangular area of a grid in a spreadsheet.",
        "inputSchema": {"type": "object", "properties": {
            "file": {"type": "string"}, "from_cell": {"type": "string"}, "to_cell": {"type": "string"}
        }, "required": ["file", "from_cell", "to_cell"]}
    });
    assert_eq!(class_of(cells), (Category::Write, Risk::Medium));
    // Guard: merging a branch still decides what ships.
    let branch = json!({
        "name": "merge_branch",
        "description": "Merge a branch into the target branch.",
        "inputSchema": {"type": "object", "properties": {
            "repo": {"type": "string"}, "source": {"type": "string"}, "target": {"type": "string"}
        }, "required": ["repo", "source", "target"]}
    });
    assert_eq!(class_of(branch), (Category::Write, Risk::High));
}

#[test]
fn a_password_set_on_or_taken_off_an_existing_file_edits_its_way_in() {
    for (name, description) in [
        (
            "protect_spreadsheet",
            "Protect a spreadsheet file with a password.",
        ),
        (
            "unprotect_spreadsheet",
            "Take the password protection off a spreadsheet file.",
        ),
    ] {
        let tool = json!({
            "name": name,
            "description": description,
            "inputSchema": {"type": "object", "properties": {
                "path": {"type": "string"}, "password": {"type": "string"}
            }, "required": ["path", "password"]}
        });
        assert_eq!(
            class_of(tool),
            (Category::Credential, Risk::Critical),
            "{name}"
        );
    }
    // Guard: protecting a branch sets no password and stays a gate.
    let branch = json!({
        "name": "protect_branch",
        "description": "Protect a branch from force pushes.",
        "inputSchema": {"type": "object", "properties": {
            "repo": {"type": "string"}, "branch": {"type": "string"}
        }, "required": ["repo", "branch"]}
    });
    assert_eq!(class_of(branch), (Category::Write, Risk::High));
}

#[test]
fn a_name_joining_a_search_to_a_replace_writes() {
    let replace = json!({
        "name": "find_and_replace",
        "description": "Find text in a note and replace it.",
        "inputSchema": {"type": "object", "properties": {
            "note": {"type": "string"}, "find": {"type": "string"}, "replacement": {"type": "string"}
        }, "required": ["note", "find", "replacement"]}
    });
    assert_eq!(class_of(replace).0, Category::Write);
    // Guard: a name joining two reads stays a read.
    let reads = json!({
        "name": "list_users_and_groups",
        "description": "List users and groups of the directory.",
        "inputSchema": {"type": "object", "properties": {"limit": {"type": "integer"}}}
    });
    assert_eq!(class_of(reads), (Category::Read, Risk::Low));
}

#[test]
fn a_table_or_chart_added_with_its_rows_or_series_is_no_empty_container() {
    let table = json!({
        "name": "add_table",
        "description": "Add a table to a slide.",
        "inputSchema": {"type": "object", "properties": {
            "slide": {"type": "integer"}, "rows": {"type": "integer"}, "cols": {"type": "integer"},
            "data": {"type": "array", "items": {"type": "array"}}
        }, "required": ["slide", "rows", "cols"]}
    });
    assert_eq!(class_of(table), (Category::Write, Risk::Medium));
    let chart = json!({
        "name": "add_chart",
        "description": "Add a chart to a slide.",
        "inputSchema": {"type": "object", "properties": {
            "slide": {"type": "integer"}, "kind": {"type": "string"},
            "series_values": {"type": "array", "items": {"type": "number"}}
        }, "required": ["slide", "kind", "series_values"]}
    });
    assert_eq!(class_of(chart), (Category::Write, Risk::Medium));
    // Guard: the same table with only its size is an empty container.
    let empty = json!({
        "name": "add_table",
        "description": "Add a table to a slide.",
        "inputSchema": {"type": "object", "properties": {
            "slide": {"type": "integer"}, "rows": {"type": "integer"}, "cols": {"type": "integer"}
        }, "required": ["slide", "rows", "cols"]}
    });
    assert_eq!(class_of(empty), (Category::Write, Risk::Low));
}

#[test]
fn deleting_a_documents_sparkline_slicer_or_footnote_is_medium() {
    for (name, description) in [
        ("delete_sparkline", "Remove the sparkline from a cell."),
        ("delete_slicer", "Remove a slicer from a sheet."),
        ("delete_footnote", "Delete a footnote from the document."),
    ] {
        let tool = json!({
            "name": name,
            "description": description,
            "inputSchema": {"type": "object", "properties": {
                "file": {"type": "string"}, "id": {"type": "string"}
            }, "required": ["file", "id"]}
        });
        assert_eq!(
            class_of(tool),
            (Category::Destructive, Risk::Medium),
            "{name}"
        );
    }
}
