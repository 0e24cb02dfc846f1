//! Round 9 (issue 14): idioms among the seventh held-out set's misses, read in general terms.
//! A `transfer` is money or ownership only when the tool says what is owned or paid; opening
//! a page or view of what exists, by at most its id, is a read. Pinned on made-up tools
//! outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::{class_of, tool};

#[test]
fn a_transfer_that_names_no_money_or_ownership_is_an_ordinary_write() {
    let moves = json!({
        "name": "transfer_shelf_books",
        "description": "Transfer books from one shelf to another shelf.",
        "inputSchema": {"type": "object", "properties": {
            "shelf_id": {"type": "string"},
            "target_shelf_id": {"type": "string"}
        }, "required": ["shelf_id", "target_shelf_id"]}
    });
    assert_eq!(class_of(moves), (Category::Write, Risk::Medium));
}

#[test]
fn a_transfer_of_funds_or_ownership_stays_high() {
    let funds = json!({
        "name": "transfer_between_wallets",
        "description": "Transfer funds from one wallet to another.",
        "inputSchema": {"type": "object", "properties": {
            "from_wallet_id": {"type": "string"},
            "to_wallet_id": {"type": "string"},
            "amount": {"type": "number"}
        }, "required": ["from_wallet_id", "to_wallet_id", "amount"]}
    });
    assert_eq!(class_of(funds), (Category::Write, Risk::High));
    let ownership = tool(
        "transfer_garden",
        "Transfer ownership of a garden to another gardener.",
        &["garden_id", "gardener_id"],
    );
    assert_eq!(class_of(ownership), (Category::Write, Risk::High));
}

#[test]
fn opening_a_page_of_an_existing_object_by_its_id_is_a_read() {
    let by_id = tool(
        "open_recipe_editor",
        "Open the recipe editor for a specific recipe in the browser",
        &["recipe_id"],
    );
    assert_eq!(class_of(by_id), (Category::Read, Risk::Low));
    let bare = tool(
        "open_pantry_dashboard",
        "Open the pantry dashboard in browser",
        &[],
    );
    assert_eq!(class_of(bare), (Category::Read, Risk::Low));
}

#[test]
fn opening_with_content_or_a_command_is_not_a_read() {
    let with_content = tool(
        "open_recipe_draft",
        "Open a new recipe draft with the given title and body",
        &["title", "body"],
    );
    let (category, _) = class_of(with_content);
    assert_ne!(category, Category::Read, "content is written, not viewed");
    let with_command = json!({
        "name": "open-console",
        "description": "Open a console on the host and run a command",
        "inputSchema": {"type": "object", "properties": {
            "host_id": {"type": "string"},
            "command": {"type": "string", "description": "Shell command to run."}
        }, "required": ["host_id", "command"]}
    });
    let (category, _) = class_of(with_command);
    assert_ne!(category, Category::Read, "a command runs");
}

#[test]
fn removing_a_member_from_a_container_named_by_id_is_medium() {
    let out_of_a_shelf = tool(
        "remove_shelf_book",
        "Remove a book from a shelf.",
        &["shelf_id", "book_id"],
    );
    assert_eq!(
        class_of(out_of_a_shelf),
        (Category::Destructive, Risk::Medium)
    );
}

#[test]
fn deleting_from_a_container_or_removing_from_one_not_named_by_id_stays_high() {
    let deletes = tool(
        "delete_shelf_books",
        "Delete books from a shelf.",
        &["shelf_id", "book_ids"],
    );
    assert_eq!(class_of(deletes), (Category::Destructive, Risk::High));
    let unnamed = tool(
        "remove_shelf_book",
        "Remove a book from a shelf.",
        &["book_id"],
    );
    assert_eq!(class_of(unnamed), (Category::Destructive, Risk::High));
}

#[test]
fn removing_several_from_something_by_an_array_is_a_medium_deletion_and_one_stays_a_write() {
    let several = json!({
        "name": "remove_guests_from_party",
        "description": "Remove guests from a party's guest book",
        "inputSchema": {"type": "object", "properties": {
            "party_ref": {"type": "string"},
            "guest_ids": {"type": "array", "items": {"type": "string"}}
        }, "required": ["party_ref", "guest_ids"]}
    });
    assert_eq!(class_of(several), (Category::Destructive, Risk::Medium));
    let one = tool(
        "remove_sticker_from_note",
        "Remove a sticker from a note",
        &["note_ref", "sticker_ref"],
    );
    assert_eq!(class_of(one), (Category::Write, Risk::Low));
}
