//! The evaluation set on disk: `eval/servers/*.json`, the split and the label files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mcpgate_catalog::{Catalogue, ToolDefinition};
use mcpgate_policy::{Category, Classification, Risk};
use serde_json::Value;

/// One side of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// What the classifier is tuned on: the first split's development half and its former
    /// held-out half, folded in once that half's misses had been read (742 tools).
    Development,
    /// The second held-out set, collected after that: measured once, never tuned on.
    HeldOut2,
}

impl Half {
    /// The lists of `split.json` that make up this side.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Half::Development => &["development", "held_out"],
            Half::HeldOut2 => &["held_out_2"],
        }
    }

    /// The folder under `labels/` holding this side's label files.
    pub fn labels_dir(self) -> &'static str {
        match self {
            Half::Development => "",
            Half::HeldOut2 => "held-out-2",
        }
    }
}

/// A tool of the set with its final (adjudicated) label.
pub struct LabelledTool {
    pub server: String,
    pub tool: ToolDefinition,
    pub expected: Classification,
    /// Why the label is what it is: the adjudication reason, or a labeller's note.
    pub why: String,
}

/// `{server: {tool: classification}}` as one label file holds it.
pub type Labels = BTreeMap<String, BTreeMap<String, Classification>>;

pub fn eval_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("eval")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("parsing {}: {error}", path.display()))
}

/// The server files (`gitlab-mcp.json`, ...) of one half, in split order.
pub fn servers(half: Half) -> Vec<String> {
    let split = read_json(&eval_dir().join("split.json"));
    half.keys()
        .iter()
        .flat_map(|key| {
            split[key]
                .as_array()
                .unwrap_or_else(|| panic!("split.json has no `{key}` list"))
                .clone()
        })
        .map(|file| file.as_str().expect("a server file name").to_owned())
        .collect()
}

fn classification(value: &Value, context: &str) -> Classification {
    let field = |key: &str| {
        value[key]
            .as_str()
            .unwrap_or_else(|| panic!("{context}: `{key}` missing"))
    };
    Classification {
        category: field("category").parse::<Category>().expect(context),
        risk: field("risk").parse::<Risk>().expect(context),
    }
}

/// One label file (`labeller-a.json`, `adjudicated.json`, ...) of one half.
pub fn labels(half: Half, file: &str) -> Labels {
    let value = read_json(&eval_dir().join("labels").join(half.labels_dir()).join(file));
    let servers = value["labels"]
        .as_object()
        .unwrap_or_else(|| panic!("{file} has no `labels` object"));
    servers
        .iter()
        .map(|(server, tools)| {
            let tools = tools
                .as_object()
                .expect("tools by name")
                .iter()
                .map(|(name, label)| {
                    (
                        name.clone(),
                        classification(label, &format!("{file} {server}/{name}")),
                    )
                })
                .collect();
            (server.clone(), tools)
        })
        .collect()
}

/// Adjudication reasons by (server, tool).
fn reasons(half: Half) -> BTreeMap<(String, String), String> {
    let path = eval_dir()
        .join("labels")
        .join(half.labels_dir())
        .join("adjudicated.json");
    let value = read_json(&path);
    value["disagreements"]
        .as_array()
        .expect("a disagreements list")
        .iter()
        .map(|d| {
            let text = |key: &str| d[key].as_str().expect(key).to_owned();
            ((text("server"), text("tool")), text("reason"))
        })
        .collect()
}

/// Every tool of one half with its adjudicated label, in file order.
pub fn half(half: Half) -> Vec<LabelledTool> {
    let labels = labels(half, "adjudicated.json");
    let reasons = reasons(half);
    let mut tools = Vec::new();
    for (server, tool) in definitions(half) {
        let server_labels = labels
            .get(&server)
            .unwrap_or_else(|| panic!("adjudicated.json has no labels for {server}"));
        let name = tool.name().to_owned();
        let expected = *server_labels
            .get(&name)
            .unwrap_or_else(|| panic!("adjudicated.json has no label for {server}/{name}"));
        let why = reasons
            .get(&(server.clone(), name.clone()))
            .cloned()
            .unwrap_or_default();
        tools.push(LabelledTool {
            server,
            tool,
            expected,
            why,
        });
    }
    tools
}

/// Every tool definition of one half with its server, in file order, labels unread.
pub fn definitions(half: Half) -> Vec<(String, ToolDefinition)> {
    let mut tools = Vec::new();
    for file in servers(half) {
        let server = file.trim_end_matches(".json").to_owned();
        let text =
            std::fs::read_to_string(eval_dir().join("servers").join(&file)).expect("server file");
        let catalogue = Catalogue::parse(&text).unwrap_or_else(|error| panic!("{file}: {error}"));
        tools.extend(
            catalogue
                .entries
                .into_iter()
                .map(|entry| (server.clone(), entry.tool)),
        );
    }
    tools
}
