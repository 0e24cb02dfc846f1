//! Round 11 (issue 14): idioms among the ninth held-out set's misses, read in general terms.
//! Pinned on made-up tools outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::class_of;

#[test]
fn listing_or_relabelling_ssh_public_keys_hands_nobody_a_way_in() {
    let list = json!({
        "name": "list_farm_ssh_keys",
        "description": "List the SSH keys registered for the studio's render farm.",
        "inputSchema": {"type": "object", "properties": {
            "farm": {"type": "string"}
        }, "required": ["farm"]}
    });
    assert_eq!(class_of(list), (Category::Read, Risk::Low));
    let relabel = json!({
        "name": "update_farm_ssh_key",
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
        "name": "update_farm_ssh_key",
        "description": "Change a render farm's SSH key.",
        "inputSchema": {"type": "object", "properties": {
            "key_id": {"type": "string"},
            "key": {"type": "string"}
        }, "required": ["key_id", "key"]}
    });
    assert_eq!(class_of(replace), (Category::Credential, Risk::Critical));
    let private = json!({
        "name": "get_farm_ssh_key",
        "description": "Get a render farm's SSH key pair, private key included.",
        "inputSchema": {"type": "object", "properties": {
            "key_id": {"type": "string"}
        }, "required": ["key_id"]}
    });
    assert_eq!(class_of(private).0, Category::Credential);
}

#[test]
fn muting_an_account_on_a_timeline_silences_no_alerting() {
    let mute = json!({
        "name": "author_mute",
        "description": "Mute an author so their posts no longer show in your feed.",
        "inputSchema": {"type": "object", "properties": {
            "author_id": {"type": "string"}
        }, "required": ["author_id"]}
    });
    assert_ne!(class_of(mute).1, Risk::High);
    let monitored = json!({
        "name": "mute_check",
        "description": "Mute a health check so it stops paging.",
        "inputSchema": {"type": "object", "properties": {
            "check_id": {"type": "string"}
        }, "required": ["check_id"]}
    });
    assert_eq!(class_of(monitored), (Category::Write, Risk::High));
}

#[test]
fn a_maintenance_window_suppresses_alerting_until_it_ends() {
    let window = json!({
        "name": "window_maintenance_create",
        "description": "Create a maintenance window for a group of boilers.",
        "inputSchema": {"type": "object", "properties": {
            "boiler_group": {"type": "string"},
            "starts_at": {"type": "string"},
            "ends_at": {"type": "string"}
        }, "required": ["boiler_group", "starts_at", "ends_at"]}
    });
    assert_eq!(class_of(window), (Category::Write, Risk::High));
    let ending = json!({
        "name": "end_boiler_maintenance",
        "description": "Finish a boiler group's maintenance window now.",
        "inputSchema": {"type": "object", "properties": {
            "window_id": {"type": "string"}
        }, "required": ["window_id"]}
    });
    assert_ne!(class_of(ending).1, Risk::High);
}

#[test]
fn a_read_listing_a_private_key_among_what_it_returns_is_a_credential_read() {
    let bundle = json!({
        "name": "get_tunnel_profile",
        "description": "Fetch the tunnel profile of a branch office.\nReturns the gateway address, client certificate, and private key as PEM text.",
        "inputSchema": {"type": "object", "properties": {
            "office": {"type": "string"}
        }, "required": ["office"]}
    });
    assert_eq!(class_of(bundle), (Category::Credential, Risk::High));
    let public = json!({
        "name": "get_tunnel_profile",
        "description": "Fetch the tunnel profile of a branch office.\nReturns the gateway address, client certificate, and public key as PEM text.",
        "inputSchema": {"type": "object", "properties": {
            "office": {"type": "string"}
        }, "required": ["office"]}
    });
    assert_eq!(class_of(public), (Category::Read, Risk::Low));
}

#[test]
fn taking_a_firewall_off_machines_or_creating_one_with_rules_changes_who_reaches_them() {
    let off = json!({
        "name": "remove_firewall_from_racks",
        "description": "Remove a firewall from the given racks.",
        "inputSchema": {"type": "object", "properties": {
            "firewall_id": {"type": "string"},
            "rack_id": {"type": "string"}
        }, "required": ["firewall_id", "rack_id"]}
    });
    assert_eq!(class_of(off), (Category::Write, Risk::High));
    let created = json!({
        "name": "create_rack_firewall",
        "description": "Create a firewall for the lab's racks.",
        "inputSchema": {"type": "object", "properties": {
            "title": {"type": "string"},
            "rules": {"type": "array", "items": {"type": "object"}}
        }, "required": ["title"]}
    });
    assert_eq!(class_of(created), (Category::Write, Risk::High));
    let relabelled = json!({
        "name": "update_rack_firewall",
        "description": "Change the title of a firewall.",
        "inputSchema": {"type": "object", "properties": {
            "firewall_id": {"type": "string"},
            "title": {"type": "string"}
        }, "required": ["firewall_id"]}
    });
    assert_eq!(class_of(relabelled), (Category::Write, Risk::Medium));
}

#[test]
fn resolving_every_open_alarm_at_once_is_high_and_resolving_listed_ones_is_not() {
    let every = json!({
        "name": "acknowledge_all_alarms",
        "description": "Acknowledge every alarm currently ringing in the plant.",
        "inputSchema": {"type": "object", "properties": {
            "operator": {"type": "string"}
        }, "required": ["operator"]}
    });
    assert_eq!(class_of(every), (Category::Write, Risk::High));
    let listed = json!({
        "name": "resolve_alarms",
        "description": "Resolve the listed alarms of the plant.",
        "inputSchema": {"type": "object", "properties": {
            "operator": {"type": "string"},
            "alarm_ids": {"type": "array", "items": {"type": "string"}}
        }, "required": ["operator", "alarm_ids"]}
    });
    assert_ne!(class_of(listed).1, Risk::High);
}

#[test]
fn a_public_link_created_for_a_file_publishes_it() {
    let public = json!({
        "name": "make_public_link",
        "description": "Make a link to a drawing that anyone holding it can open.",
        "inputSchema": {"type": "object", "properties": {
            "drawing_path": {"type": "string"}
        }, "required": ["drawing_path"]}
    });
    assert_eq!(class_of(public), (Category::Network, Risk::High));
}

#[test]
fn a_dns_record_edit_is_a_plain_write_and_a_name_server_change_moves_the_domain() {
    let record = json!({
        "name": "add_dns_record",
        "description": "Add a record to the bakery's DNS zone.",
        "inputSchema": {"type": "object", "properties": {
            "zone": {"type": "string"},
            "type": {"type": "string"},
            "content": {"type": "string"}
        }, "required": ["zone", "type", "content"]}
    });
    assert_eq!(class_of(record), (Category::Write, Risk::Medium));
    let every = json!({
        "name": "edit_dns_records_matching",
        "description": "Edit every DNS record matching a type on the bakery's domain.",
        "inputSchema": {"type": "object", "properties": {
            "zone": {"type": "string"},
            "type": {"type": "string"},
            "content": {"type": "string"}
        }, "required": ["zone", "type", "content"]}
    });
    assert_eq!(class_of(every), (Category::Write, Risk::High));
    let name_servers = json!({
        "name": "set_name_servers",
        "description": "Point the bakery's domain at other name servers.",
        "inputSchema": {"type": "object", "properties": {
            "domain": {"type": "string"},
            "servers": {"type": "array", "items": {"type": "string"}}
        }, "required": ["domain", "servers"]}
    });
    assert_eq!(class_of(name_servers), (Category::Write, Risk::High));
}

#[test]
fn boosting_an_entry_republishes_it_to_the_accounts_followers() {
    let boost = json!({
        "name": "entry_boost",
        "description": "Boost an entry so that it appears on your followers' timelines.",
        "inputSchema": {"type": "object", "properties": {
            "entry_id": {"type": "string"}
        }, "required": ["entry_id"]}
    });
    assert_eq!(class_of(boost), (Category::Network, Risk::High));
}

#[test]
fn an_edit_setting_a_passwd_field_changes_a_way_in() {
    let edit = json!({
        "name": "update_operator",
        "description": "Update an operator of the kiosk fleet.",
        "inputSchema": {"type": "object", "properties": {
            "operator_id": {"type": "string"},
            "surname": {"type": "string"},
            "passwd": {"type": "string", "description": "New password."}
        }, "required": ["operator_id"]}
    });
    assert_eq!(class_of(edit), (Category::Credential, Risk::Critical));
}

#[test]
fn deleting_a_leaf_remade_in_one_call_is_medium() {
    let forward = json!({
        "name": "delete_mail_forward",
        "description": "Delete a mail forward of the choir's domain.",
        "inputSchema": {"type": "object", "properties": {
            "forward_id": {"type": "string"}
        }, "required": ["forward_id"]}
    });
    assert_eq!(class_of(forward), (Category::Destructive, Risk::Medium));
    let queued = json!({
        "name": "delete_queued_rehearsal",
        "description": "Delete a queued rehearsal reminder of the choir.",
        "inputSchema": {"type": "object", "properties": {
            "reminder_id": {"type": "string"}
        }, "required": ["reminder_id"]}
    });
    assert_eq!(class_of(queued), (Category::Destructive, Risk::Medium));
}

#[test]
fn a_deletion_taking_all_associated_data_or_what_others_will_lose_cascades() {
    let associated = json!({
        "name": "delete_greenhouse",
        "description": "Delete a greenhouse. This deletes all associated sensor readings and schedules.",
        "inputSchema": {"type": "object", "properties": {
            "greenhouse_id": {"type": "string"}
        }, "required": ["greenhouse_id"]}
    });
    assert_eq!(
        class_of(associated),
        (Category::Destructive, Risk::Critical)
    );
    let others_lose = json!({
        "name": "delete_planting_plan",
        "description": "Delete a planting plan. Beds that follow it will lose their watering schedules.",
        "inputSchema": {"type": "object", "properties": {
            "plan_id": {"type": "string"}
        }, "required": ["plan_id"]}
    });
    assert_eq!(
        class_of(others_lose),
        (Category::Destructive, Risk::Critical)
    );
}

#[test]
fn a_name_of_one_plural_word_is_a_listing() {
    let listing = json!({
        "name": "pins",
        "description": "Get recipes pinned by the signed-in cook.",
        "inputSchema": {"type": "object", "properties": {
            "limit": {"type": "integer"}
        }}
    });
    assert_eq!(class_of(listing), (Category::Read, Risk::Low));
}

#[test]
fn favouriting_or_bookmarking_is_a_reaction_and_voting_a_write() {
    let favourite = json!({
        "name": "recipe_favourite",
        "description": "Favourite a recipe.",
        "inputSchema": {"type": "object", "properties": {
            "recipe_id": {"type": "string"}
        }, "required": ["recipe_id"]}
    });
    assert_eq!(class_of(favourite), (Category::Write, Risk::Low));
    let vote = json!({
        "name": "ballot_vote",
        "description": "Vote in a ballot of the cooking club.",
        "inputSchema": {"type": "object", "properties": {
            "ballot_id": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "integer"}}
        }, "required": ["ballot_id", "choices"]}
    });
    assert_eq!(class_of(vote), (Category::Write, Risk::Medium));
}

#[test]
fn creating_a_user_account_is_high_and_adding_one_to_a_room_is_not() {
    let account = json!({
        "name": "create_desk_user",
        "description": "Create a user of the ticket desk.",
        "inputSchema": {"type": "object", "properties": {
            "login": {"type": "string"},
            "display_name": {"type": "string"}
        }, "required": ["login"]}
    });
    assert_eq!(class_of(account), (Category::Write, Risk::High));
    let into_room = json!({
        "name": "add_user_to_room",
        "description": "Add a user to a chat room.",
        "inputSchema": {"type": "object", "properties": {
            "room_id": {"type": "string"},
            "user_id": {"type": "string"}
        }, "required": ["room_id", "user_id"]}
    });
    assert_ne!(class_of(into_room).1, Risk::High);
}

#[test]
fn reading_a_files_download_link_hands_out_a_bearer_capability() {
    let link = json!({
        "name": "get_scan_file_link",
        "description": "Get a temporary download URL for a scanned invoice.",
        "inputSchema": {"type": "object", "properties": {
            "scan_id": {"type": "string"}
        }, "required": ["scan_id"]}
    });
    assert_eq!(class_of(link), (Category::Read, Risk::Medium));
}

#[test]
fn a_ping_with_no_host_checks_the_servers_own_connection() {
    let probe = json!({
        "name": "ping_station",
        "description": "Check that the weather station API answers.",
        "inputSchema": {"type": "object", "properties": {}}
    });
    assert_eq!(class_of(probe), (Category::Read, Risk::Low));
    let host = json!({
        "name": "ping_host",
        "description": "Send ICMP echo requests to a host.",
        "inputSchema": {"type": "object", "properties": {
            "host": {"type": "string"}
        }, "required": ["host"]}
    });
    assert_eq!(class_of(host).0, Category::Network);
}

#[test]
fn a_name_led_by_list_and_closed_by_a_write_verb_writes_to_a_list() {
    let add = json!({
        "name": "list_members_add",
        "description": "Add the given readers to a reading list.",
        "inputSchema": {"type": "object", "properties": {
            "list_id": {"type": "string"},
            "reader_ids": {"type": "array", "items": {"type": "string"}}
        }, "required": ["list_id", "reader_ids"]}
    });
    assert_eq!(class_of(add).0, Category::Write);
}

#[test]
fn an_escalation_policy_says_who_is_paged_not_who_may_do_what() {
    let escalation = json!({
        "name": "create_shift_policy",
        "description": "Create a new escalation policy for the night shift.",
        "inputSchema": {"type": "object", "properties": {
            "title": {"type": "string"},
            "steps": {"type": "array", "items": {"type": "object"}}
        }, "required": ["title"]}
    });
    assert_eq!(class_of(escalation), (Category::Write, Risk::Medium));
    let access = json!({
        "name": "create_shift_policy",
        "description": "Create a new access policy for the night shift.",
        "inputSchema": {"type": "object", "properties": {
            "title": {"type": "string"},
            "statements": {"type": "array", "items": {"type": "object"}}
        }, "required": ["title"]}
    });
    assert_eq!(class_of(access).1, Risk::High);
}

#[test]
fn blocking_an_account_is_a_write_and_unblocking_a_toggle() {
    let block = json!({
        "name": "seller_block",
        "description": "Block a seller: their listings are hidden and follows between you end.",
        "inputSchema": {"type": "object", "properties": {
            "seller_id": {"type": "string"}
        }, "required": ["seller_id"]},
        "annotations": {"openWorldHint": true}
    });
    assert_eq!(class_of(block), (Category::Write, Risk::Medium));
    let unblock = json!({
        "name": "seller_unblock",
        "description": "Unblock a seller.",
        "inputSchema": {"type": "object", "properties": {
            "seller_id": {"type": "string"}
        }, "required": ["seller_id"]},
        "annotations": {"openWorldHint": true}
    });
    assert_eq!(class_of(unblock), (Category::Write, Risk::Low));
    let generated = json!({
        "name": "API-get-block-rows",
        "description": "Retrieve the rows of a block.",
        "inputSchema": {"type": "object", "properties": {
            "block_id": {"type": "string"}
        }, "required": ["block_id"]}
    });
    assert_eq!(class_of(generated).0, Category::Read);
}

#[test]
fn a_toggle_over_a_caller_listed_batch_changes_several_items_at_once() {
    let listed = json!({
        "name": "resolve_tickets",
        "description": "Resolve the listed tickets of the help desk.",
        "inputSchema": {"type": "object", "properties": {
            "ticket_ids": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string"}
        }, "required": ["ticket_ids"]}
    });
    assert_eq!(class_of(listed), (Category::Write, Risk::Medium));
    let one = json!({
        "name": "resolve_ticket",
        "description": "Resolve a ticket of the help desk.",
        "inputSchema": {"type": "object", "properties": {
            "ticket_id": {"type": "string"}
        }, "required": ["ticket_id"]}
    });
    assert_eq!(class_of(one), (Category::Write, Risk::Low));
}

#[test]
fn a_leading_toggle_verb_names_the_resource_of_a_closing_change() {
    let reject = json!({
        "name": "follow_invite_reject",
        "description": "Reject an invitation to follow the club's page.",
        "inputSchema": {"type": "object", "properties": {
            "invite_id": {"type": "string"}
        }, "required": ["invite_id"]}
    });
    assert_eq!(class_of(reject), (Category::Write, Risk::Medium));
}

#[test]
fn a_post_named_for_its_http_method_does_what_its_description_opens_with() {
    let create = json!({
        "name": "post_oven",
        "description": "Create an oven in the bakery's inventory.",
        "inputSchema": {"type": "object", "properties": {
            "title": {"type": "string"},
            "slots": {"type": "integer"}
        }, "required": ["title"]}
    });
    assert_eq!(class_of(create).0, Category::Write);
    let message = json!({
        "name": "post_bulletin",
        "description": "Post a bulletin to the bakery's public board.",
        "inputSchema": {"type": "object", "properties": {
            "text": {"type": "string"}
        }, "required": ["text"]}
    });
    assert_eq!(class_of(message).0, Category::Network);
}

#[test]
fn detecting_something_in_sign_in_events_reads_them() {
    let detect = json!({
        "name": "detect_login_bursts",
        "description": "Find accounts with unusually many sign-ins in the last hour.",
        "inputSchema": {"type": "object", "properties": {
            "realm": {"type": "string"}
        }, "required": ["realm"]}
    });
    assert_eq!(class_of(detect), (Category::Read, Risk::Low));
}

#[test]
fn a_removal_that_returns_a_backup_id_is_one_restore_away() {
    let kept = json!({
        "name": "remove_shelf",
        "description": "Remove a shelf and all its jars from the pantry layout.\n\nReturns: the saved layout with a `backup_id`.",
        "inputSchema": {"type": "object", "properties": {
            "shelf": {"type": "string"}
        }, "required": ["shelf"]}
    });
    assert_eq!(class_of(kept), (Category::Destructive, Risk::Medium));
}

#[test]
fn a_read_whose_object_choice_offers_a_password_can_return_one() {
    let pick = json!({
        "name": "get",
        "description": "Get one field of a locker entry.",
        "inputSchema": {"type": "object", "properties": {
            "field": {"type": "string", "enum": ["title", "owner", "password", "notes"]},
            "entry_id": {"type": "string"}
        }, "required": ["field", "entry_id"]}
    });
    assert_eq!(class_of(pick), (Category::Credential, Risk::High));
    let plain = json!({
        "name": "get",
        "description": "Get one field of a locker entry.",
        "inputSchema": {"type": "object", "properties": {
            "field": {"type": "string", "enum": ["title", "owner", "notes"]},
            "entry_id": {"type": "string"}
        }, "required": ["field", "entry_id"]}
    });
    assert_eq!(class_of(plain), (Category::Read, Risk::Low));
}

#[test]
fn a_secure_passphrase_drawn_from_options_alone_is_a_read() {
    let passphrase = json!({
        "name": "generate",
        "description": "Generate a secure password or passphrase for a new locker.",
        "inputSchema": {"type": "object", "properties": {
            "words": {"type": "integer"},
            "separator": {"type": "string", "description": "Character between words"},
            "capitalize": {"type": "boolean"}
        }}
    });
    assert_eq!(class_of(passphrase), (Category::Read, Risk::Low));
}

#[test]
fn listing_vaults_themselves_returns_containers_not_secrets() {
    let vaults = json!({
        "name": "list_vault",
        "description": "List the band's vaults with their names and ids.",
        "inputSchema": {"type": "object", "properties": {}}
    });
    assert_eq!(class_of(vaults), (Category::Read, Risk::Low));
    let secrets = json!({
        "name": "list_vault_entries",
        "description": "List the entries of one of the band's vaults.",
        "inputSchema": {"type": "object", "properties": {
            "vault_id": {"type": "string"}
        }, "required": ["vault_id"]}
    });
    assert_eq!(class_of(secrets).0, Category::Credential);
}

#[test]
fn a_read_saying_secret_fields_are_blocked_rather_than_shown_masks_them() {
    let profile = json!({
        "name": "get_member_profile",
        "description": "Get a member profile, including custom attributes. An attribute whose name contains password is reported as blocked rather than shown.",
        "inputSchema": {"type": "object", "properties": {
            "member": {"type": "string"}
        }, "required": ["member"]}
    });
    assert_eq!(class_of(profile).0, Category::Read);
}
