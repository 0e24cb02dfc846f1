//! The evaluation set on disk: `eval/servers/*.json`, the split and the label files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mcpgate_catalog::{Catalogue, ToolDefinition};
use mcpgate_policy::{Category, Classification, Risk};
use serde_json::Value;

/// One side of the split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// What the classifier is tuned on: every set whose misses have been read after its one
    /// measurement (the first split's two halves, then the second to fourteenth held-out sets:
    /// 4,435 tools).
    Development,
    /// The fifteenth held-out set (`held_out_15`, labels in `labels/held-out-15/`), for one
    /// measurement and never tuned on. Were `split.json` to
    /// lose its list, [`servers`] would report it absent.
    HeldOut15,
}

/// One list of `split.json` and the folder under `labels/` holding its label files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub key: &'static str,
    pub labels_dir: &'static str,
}

impl Half {
    /// The lists of `split.json` that make up this side, each with its labels folder.
    pub fn parts(self) -> &'static [Part] {
        const DEVELOPMENT: &[Part] = &[
            Part {
                key: "development",
                labels_dir: "",
            },
            Part {
                key: "held_out",
                labels_dir: "",
            },
            Part {
                key: "held_out_2",
                labels_dir: "held-out-2",
            },
            Part {
                key: "held_out_3",
                labels_dir: "held-out-3",
            },
            Part {
                key: "held_out_4",
                labels_dir: "held-out-4",
            },
            Part {
                key: "held_out_5",
                labels_dir: "held-out-5",
            },
            Part {
                key: "held_out_6",
                labels_dir: "held-out-6",
            },
            Part {
                key: "held_out_7",
                labels_dir: "held-out-7",
            },
            Part {
                key: "held_out_8",
                labels_dir: "held-out-8",
            },
            Part {
                key: "held_out_9",
                labels_dir: "held-out-9",
            },
            Part {
                key: "held_out_10",
                labels_dir: "held-out-10",
            },
            Part {
                key: "held_out_11",
                labels_dir: "held-out-11",
            },
            Part {
                key: "held_out_12",
                labels_dir: "held-out-12",
            },
            Part {
                key: "held_out_13",
                labels_dir: "held-out-13",
            },
            Part {
                key: "held_out_14",
                labels_dir: "held-out-14",
            },
        ];
        const HELD_OUT_15: &[Part] = &[Part {
            key: "held_out_15",
            labels_dir: "held-out-15",
        }];
        match self {
            Half::Development => DEVELOPMENT,
            Half::HeldOut15 => HELD_OUT_15,
        }
    }

    /// The distinct label folders of this side, in order.
    fn labels_dirs(self) -> Vec<&'static str> {
        let mut dirs: Vec<&'static str> = Vec::new();
        for part in self.parts() {
            if !dirs.contains(&part.labels_dir) {
                dirs.push(part.labels_dir);
            }
        }
        dirs
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

/// The server files (`gitlab-mcp.json`, ...) of one half, in split order, or `None` when
/// `split.json` has none of the half's lists yet (a held-out set still being collected).
pub fn servers(half: Half) -> Option<Vec<String>> {
    servers_in(&read_json(&eval_dir().join("split.json")), half)
}

/// [`servers`] over a parsed `split.json`. A half with some of its lists present and
/// others missing is a broken split, not an absent half.
pub fn servers_in(split: &Value, half: Half) -> Option<Vec<String>> {
    let lists: Vec<(&str, Option<&Vec<Value>>)> = half
        .parts()
        .iter()
        .map(|part| (part.key, split.get(part.key).and_then(Value::as_array)))
        .collect();
    if lists.iter().all(|(_, list)| list.is_none()) {
        return None;
    }
    let files = lists
        .into_iter()
        .flat_map(|(key, list)| {
            list.unwrap_or_else(|| panic!("split.json has no `{key}` list"))
                .iter()
                .map(|file| file.as_str().expect("a server file name").to_owned())
        })
        .collect();
    Some(files)
}

/// The server files of one list of the split (`held_out_3`'s fourteen, ...).
pub fn part_servers(part: &Part) -> Vec<String> {
    let split = read_json(&eval_dir().join("split.json"));
    split[part.key]
        .as_array()
        .unwrap_or_else(|| panic!("split.json has no `{}` list", part.key))
        .iter()
        .map(|file| file.as_str().expect("a server file name").to_owned())
        .collect()
}

/// The server files of a half that must be in the split (the development side).
fn present_servers(half: Half) -> Vec<String> {
    servers(half).unwrap_or_else(|| panic!("split.json has none of {:?}'s lists", half))
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

fn label_file(labels_dir: &str, file: &str) -> Labels {
    let value = read_json(&eval_dir().join("labels").join(labels_dir).join(file));
    let servers = value["labels"]
        .as_object()
        .unwrap_or_else(|| panic!("{labels_dir}/{file} has no `labels` object"));
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
                        classification(label, &format!("{labels_dir}/{file} {server}/{name}")),
                    )
                })
                .collect();
            (server.clone(), tools)
        })
        .collect()
}

/// One label file (`labeller-a.json`, `adjudicated.json`, ...) of one half: the file of
/// that name in each of the half's label folders, merged. A server labelled in two folders
/// is an error, not a choice.
pub fn labels(half: Half, file: &str) -> Labels {
    let mut merged = Labels::new();
    for dir in half.labels_dirs() {
        for (server, tools) in label_file(dir, file) {
            let previous = merged.insert(server.clone(), tools);
            assert!(
                previous.is_none(),
                "{server} is labelled in two folders ({file})"
            );
        }
    }
    merged
}

/// Adjudication reasons by (server, tool), from every label folder of the half.
fn reasons(half: Half) -> BTreeMap<(String, String), String> {
    let mut reasons = BTreeMap::new();
    for dir in half.labels_dirs() {
        let path = eval_dir().join("labels").join(dir).join("adjudicated.json");
        let value = read_json(&path);
        reasons.extend(
            value["disagreements"]
                .as_array()
                .expect("a disagreements list")
                .iter()
                .map(|d| {
                    let text = |key: &str| d[key].as_str().expect(key).to_owned();
                    ((text("server"), text("tool")), text("reason"))
                }),
        );
    }
    reasons
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
    for file in present_servers(half) {
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
