//! The committed schema is the one the code generates.

use std::path::PathBuf;

#[test]
fn committed_schema_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/policy.schema.json");
    let generated = serde_json::to_string_pretty(&mcpgate_policy::json_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/policy.schema.json is stale; regenerate it with \
         `UPDATE_SCHEMA=1 cargo test -p mcpgate-policy --test policy`"
    );
}
