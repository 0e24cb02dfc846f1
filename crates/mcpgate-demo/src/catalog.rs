//! Tool catalogues: a JSON object with a `tools` array of MCP tool definitions.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// The catalogue served when none is given: the tools of k8s-multicluster-mcp.
const BUILTIN: &str = include_str!("../catalogs/k8s-multicluster-mcp.json");

/// Tools that need a client answer (elicitation) or run long (tasks).
const INTERACTIVE: &str = r#"{"tools":[
  {"name":"demo_confirm","description":"Asks the user to confirm (an elicitation), then answers.",
   "inputSchema":{"type":"object","properties":{"action":{"type":"string"}}}},
  {"name":"demo_long_job","description":"Runs for a while: a task when the client speaks the tasks extension.",
   "inputSchema":{"type":"object","properties":{"job":{"type":"string"}}},
   "execution":{"taskSupport":"optional"}}
]}"#;

/// Keys of an MCP `Tool` (2025-11-25); anything else in a catalogue entry (such as
/// our `label`) is catalogue metadata, not part of what `tools/list` returns.
const TOOL_KEYS: &[&str] = &[
    "name",
    "title",
    "description",
    "inputSchema",
    "outputSchema",
    "annotations",
    "icons",
    "execution",
    "_meta",
];

/// A catalogue file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Not JSON, or no `tools` array of objects.
    #[error("invalid catalogue: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A tool without a string `name`.
    #[error("tool #{0} has no name")]
    Unnamed(usize),
    /// The file could not be read.
    #[error("cannot read the catalogue: {0}")]
    Io(#[from] std::io::Error),
}

/// The tools a demo server offers, each kept as compact JSON in its original key order.
#[derive(Debug, Clone)]
pub struct Catalog {
    tools: Vec<CatalogTool>,
}

#[derive(Debug, Clone)]
pub(crate) struct CatalogTool {
    pub(crate) name: String,
    pub(crate) json: String,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Catalog {
    /// The embedded k8s-multicluster-mcp catalogue (57 tools).
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN).expect("the embedded catalogue is valid")
    }

    /// Parses a catalogue; keys other than MCP `Tool` fields are dropped from each tool.
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        #[derive(Deserialize)]
        struct File<'a> {
            #[serde(borrow)]
            tools: Vec<Entries<'a>>,
        }
        let file: File<'_> = serde_json::from_str(text)?;
        let tools = file
            .tools
            .into_iter()
            .enumerate()
            .map(|(index, Entries(entries))| {
                let mut name = None;
                let mut json = String::from("{");
                for (key, value) in entries.iter().filter(|(k, _)| TOOL_KEYS.contains(&&**k)) {
                    if key == "name" {
                        name = serde_json::from_str::<String>(value.get()).ok();
                    }
                    if json.len() > 1 {
                        json.push(',');
                    }
                    json.push_str(&serde_json::to_string(key).expect("a string serialises"));
                    json.push(':');
                    push_compact(&mut json, value.get());
                }
                json.push('}');
                let name = name.ok_or(CatalogError::Unnamed(index))?;
                Ok(CatalogTool { name, json })
            })
            .collect::<Result<_, CatalogError>>()?;
        Ok(Self { tools })
    }

    /// Reads and parses a catalogue file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, CatalogError> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    /// A catalogue of the given tools (each a JSON object with at least `name`).
    pub fn from_tools(tools: &[serde_json::Value]) -> Result<Self, CatalogError> {
        Self::from_json(&serde_json::json!({ "tools": tools }).to_string())
    }

    /// Tool names, in catalogue order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|tool| tool.name.as_str())
    }

    /// Number of tools.
    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// Whether the catalogue has no tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    pub(crate) fn tools(&self) -> &[CatalogTool] {
        &self.tools
    }

    /// This catalogue plus `demo_confirm` and `demo_long_job` (see
    /// `DemoSettings::interactive_tools`), unless it has tools of those names already.
    pub(crate) fn with_interactive_tools(mut self) -> Self {
        let extra = Self::from_json(INTERACTIVE).expect("the interactive tools are valid");
        for tool in extra.tools {
            if !self.contains(&tool.name) {
                self.tools.push(tool);
            }
        }
        self
    }

    pub(crate) fn contains(&self, name: &str) -> bool {
        self.tools.iter().any(|tool| tool.name == name)
    }
}

/// Appends `json` without whitespace outside strings (catalogue files are pretty-printed;
/// SSE data is nicer on one line).
fn push_compact(out: &mut String, json: &str) {
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
}

/// An object's entries in document order, values raw.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for EntriesVisitor<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tool object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Cow<'a, str>>()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_drops_labels_and_keeps_key_order() {
        let catalog = Catalog::builtin();
        assert_eq!(catalog.len(), 57);
        let first = &catalog.tools()[0];
        assert_eq!(first.name, "k8s_get_contexts");
        assert!(!first.json.contains("label"));
        assert!(first
            .json
            .starts_with(r#"{"name":"k8s_get_contexts","description":"#));
        let value: serde_json::Value = serde_json::from_str(&first.json).unwrap();
        assert_eq!(value["inputSchema"]["type"], "object");
    }

    #[test]
    fn compaction_keeps_strings_intact() {
        let mut out = String::new();
        push_compact(&mut out, "{ \"a b\" : [ 1, \"x \\\" y\" ] }");
        assert_eq!(out, r#"{"a b":[1,"x \" y"]}"#);
    }

    #[test]
    fn unnamed_tools_are_refused() {
        assert!(matches!(
            Catalog::from_json(r#"{"tools":[{"description":"x"}]}"#),
            Err(CatalogError::Unnamed(0))
        ));
    }
}
