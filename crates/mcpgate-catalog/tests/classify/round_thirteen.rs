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
