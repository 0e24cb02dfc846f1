//! A stable fingerprint of a tool definition, to notice an upstream that
//! silently changes a tool after it was approved (a "rug pull").
//!
//! The fingerprint is the SHA-256 of the canonical JSON of the fields an agent
//! sees: `name`, `title`, `description`, `inputSchema`, `outputSchema` and
//! `annotations` (absent ones omitted). Canonical means keys sorted by their
//! UTF-8 bytes at every depth and no whitespace, so key order and formatting
//! do not change it while any change of content does.

use std::fmt;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::tool::ToolDefinition;

/// The lowercase hex SHA-256 of a tool's canonical JSON (64 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint as 64 lowercase hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Fingerprints a tool definition. Unknown keys (such as a fixture's `label`)
/// are not part of it: only what the upstream's agents would see.
pub fn fingerprint(tool: &ToolDefinition) -> Fingerprint {
    let digest = Sha256::digest(canonical_json(tool).as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    Fingerprint(hex)
}

/// The canonical JSON the fingerprint is taken of.
pub fn canonical_json(tool: &ToolDefinition) -> String {
    let fields: [(&str, Option<Value>); 6] = [
        ("annotations", tool.raw_annotations().cloned()),
        (
            "description",
            tool.has_description().then(|| tool.description().into()),
        ),
        ("inputSchema", tool.input_schema().cloned()),
        ("name", Some(tool.name().into())),
        ("outputSchema", tool.output_schema().cloned()),
        ("title", tool.title().map(Value::from)),
    ];
    let object: serde_json::Map<String, Value> = fields
        .into_iter()
        .filter_map(|(key, value)| value.map(|value| (key.to_owned(), value)))
        .collect();
    let mut out = String::new();
    write_canonical(&Value::Object(object), &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            // Sorted here rather than trusting the map: with serde_json's
            // `preserve_order` feature enabled anywhere in the build, maps keep
            // insertion order.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
