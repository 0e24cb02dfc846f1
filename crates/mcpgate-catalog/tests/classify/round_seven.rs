//! Round 7 (issue 14): a router whose `command` argument names one of its own operations is
//! judged by what its service does, not as code the caller writes; a `command` that is a
//! command line for a shell stays code. Pinned on made-up tools outside the evaluation set.

use mcpgate_policy::{Category, Risk};
use serde_json::json;

use super::class_of;

fn router(description: &str, command: serde_json::Value) -> serde_json::Value {
    json!({
        "name": "ledgerbook",
        "description": description,
        "inputSchema": {"type": "object", "properties": {
            "intent": {"type": "string", "description": "What the caller wants done."},
            "command": command,
            "parameters": {"type": "object", "description": "The arguments of the sub-command."},
            "learn": {"type": "boolean", "description": "List the supported sub-commands."}
        }, "required": ["intent"]}
    })
}

#[test]
fn a_router_command_naming_its_own_sub_command_is_judged_by_what_the_service_does() {
    let command = json!({"type": "string", "description": "The command to execute against the specified tool."});
    let reads = router(
        "Ledgerbook reports - List and get the ledger's monthly reports and balances.",
        command.clone(),
    );
    assert_eq!(class_of(reads), (Category::Read, Risk::Low));
    let manages = router(
        "Ledgerbook operations - Commands for managing ledgerbook accounts and their settings.",
        command,
    );
    assert_eq!(class_of(manages), (Category::Write, Risk::Medium));
    // Named from a listed set without the siblings: still an operation choice.
    let listed = json!({
        "name": "ledgerbook_reports",
        "description": "List the ledger's monthly reports.",
        "inputSchema": {"type": "object", "properties": {
            "command": {"type": "string", "description": "The name of the command to run, from the available commands."}
        }, "required": ["command"]}
    });
    assert_eq!(class_of(listed), (Category::Read, Risk::Low));
}

#[test]
fn a_shell_command_line_stays_code_beside_a_parameters_object() {
    let shell = router(
        "Ledgerbook host - List and get the ledger's monthly reports and balances.",
        json!({"type": "string", "description": "Shell command to run on the host."}),
    );
    let (category, risk) = class_of(shell);
    assert_eq!(category, Category::Execute);
    assert!(
        risk >= Risk::High,
        "a shell command line is at least high: {risk:?}"
    );
    // A free command with no listed set and no siblings stays code too.
    let free = json!({
        "name": "ledgerbook_run",
        "description": "List the ledger's monthly reports.",
        "inputSchema": {"type": "object", "properties": {
            "command": {"type": "string", "description": "The command to execute."}
        }, "required": ["command"]}
    });
    assert_eq!(class_of(free).0, Category::Execute);
}
