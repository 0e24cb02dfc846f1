//! The JSON Schema of a policy document, for editors and the API's docs.
//!
//! `docs/policy.schema.json` is this schema, checked by a test (regenerate it
//! with `UPDATE_SCHEMA=1 cargo test -p mcpgate-policy`).

use serde_json::Value;

use crate::document::Policy;

/// The JSON Schema (draft 2020-12) of a policy document.
///
/// The schema describes structure; [`crate::parse`] also checks what a schema cannot
/// (regexes compile, shared counters agree, declared tests pass).
pub fn json_schema() -> Value {
    let mut schema = schemars::schema_for!(Policy);
    schema.insert("title".into(), "mcpgate policy".into());
    schema.into()
}
