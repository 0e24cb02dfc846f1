//! The recommended policy: its shape and the rules that matter.

use mcpgate_catalog::{classify_all, recommended_policy, Catalogue, ClassifiedTool};
use serde_json::{json, Value};

const TOOL_KEYS: [&str; 5] = ["action", "reason", "require", "deny_if", "limits"];
const OPS: [&str; 13] = [
    "eq",
    "neq",
    "in",
    "not_in",
    "lt",
    "lte",
    "gt",
    "gte",
    "regex",
    "contains",
    "exists",
    "prefix",
    "max_length",
];

fn policy_for(fixture: &str) -> (Vec<ClassifiedTool>, Value) {
    let catalogue = Catalogue::parse(fixture).expect("fixture parses");
    let classified = classify_all(catalogue.tools());
    let policy = recommended_policy(&classified);
    (classified, policy)
}

fn all_fixtures() -> Vec<(Vec<ClassifiedTool>, Value)> {
    [
        include_str!("fixtures/k8s-multicluster-mcp.json"),
        include_str!("fixtures/mcp-server-docker.json"),
        include_str!("fixtures/mcp-server-filesystem.json"),
    ]
    .into_iter()
    .map(policy_for)
    .collect()
}

#[test]
fn k8s_run_pod_is_callable_ten_times_a_minute_per_grant() {
    let (_, policy) = policy_for(include_str!("fixtures/k8s-multicluster-mcp.json"));
    let entry = &policy["tools"]["k8s_run_pod"];
    assert_eq!(entry.get("action"), None, "no approval needed: {entry}");
    assert_eq!(
        entry["limits"],
        json!([{"counter": "k8s_run_pod_rate", "window": "minute", "max": 10, "scope": "grant"}])
    );
}

#[test]
fn policy_uses_only_the_policy_language() {
    for (classified, policy) in all_fixtures() {
        assert_eq!(policy["version"], "1");
        assert_eq!(policy["default"], "deny");
        let tools = policy["tools"].as_object().expect("tools object");
        assert_eq!(tools.len(), classified.len(), "one entry per tool");
        for (name, entry) in tools {
            let entry = entry.as_object().expect("entry object");
            for key in entry.keys() {
                assert!(
                    TOOL_KEYS.contains(&key.as_str()),
                    "{name}: unknown key {key}"
                );
            }
            if let Some(action) = entry.get("action") {
                assert!(["allow", "deny", "require_approval"].contains(&action.as_str().unwrap()));
            }
            for key in ["require", "deny_if"] {
                for condition in entry
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let path = condition["path"].as_str().expect("path");
                    assert!(path.starts_with("args."), "{name}: {path}");
                    assert!(
                        OPS.contains(&condition["op"].as_str().expect("op")),
                        "{name}"
                    );
                    assert!(
                        condition.get("value").is_some(),
                        "{name}: condition needs a value"
                    );
                }
            }
            for limit in entry
                .get("limits")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                assert_eq!(limit["counter"], format!("{name}_rate"));
                assert!(limit["counter"].as_str().unwrap().len() <= 64);
                assert!(["second", "minute", "hour", "day"]
                    .contains(&limit["window"].as_str().unwrap()));
                assert!(["grant", "server", "tenant"].contains(&limit["scope"].as_str().unwrap()));
                assert!(limit["max"].as_u64().is_some_and(|max| max > 0));
            }
        }
    }
}

#[test]
fn reads_are_allowed_and_dangerous_tools_need_approval() {
    use mcpgate_policy::{Category, Risk};
    for (classified, policy) in all_fixtures() {
        for tool in &classified {
            let entry = &policy["tools"][tool.tool.name()];
            let class = tool.assessment.classification;
            let approval = entry["action"] == "require_approval";
            match class.category {
                Category::Read if class.risk == Risk::Low => assert_eq!(entry, &json!({})),
                Category::Read => assert!(entry.get("action").is_none(), "{entry}"),
                Category::Destructive | Category::Credential => assert!(approval, "{entry}"),
                _ if class.risk == Risk::Critical => assert!(approval, "{entry}"),
                Category::Write | Category::Execute | Category::Network => {
                    assert!(!approval && entry["limits"].is_array(), "{entry}")
                }
            }
        }
    }
}

#[test]
fn execute_tools_get_a_generic_argument_check_where_one_exists() {
    let tools = json!({"tools": [
        {"name": "run_job", "description": "Run a one-off job in a fresh sandbox container",
         "inputSchema": {"properties": {"command": {"type": "string"}}, "required": ["command"]}},
        {"name": "query", "description": "Run a SQL query",
         "inputSchema": {"properties": {"sql": {"type": "string"}}}}
    ]});
    let catalogue = Catalogue::from_value(&tools).expect("catalogue");
    let policy = recommended_policy(&classify_all(catalogue.tools()));
    let script = &policy["tools"]["run_job"];
    assert_eq!(
        script["require"],
        json!([{"path": "args.command", "op": "max_length", "value": 1024}])
    );
    assert_eq!(script["limits"][0]["max"], 10);
    let query = &policy["tools"]["query"];
    assert_eq!(query["deny_if"][0]["path"], "args.sql");
    assert_eq!(query["deny_if"][0]["op"], "regex");
    // `sql` is not required: a call without it is not denied for its absence.
    assert_eq!(query["deny_if"][0]["optional"], true);
}

#[test]
fn counter_names_fit_the_policy_language() {
    let long = format!("{}:create/thing", "x".repeat(80));
    let tools = json!({"tools": [{"name": long, "description": "Create a thing"}]});
    let catalogue = Catalogue::from_value(&tools).expect("catalogue");
    let policy = recommended_policy(&classify_all(catalogue.tools()));
    let counter = policy["tools"][&long]["limits"][0]["counter"]
        .as_str()
        .expect("counter")
        .to_owned();
    assert_eq!(counter.len(), 64);
    assert!(counter.ends_with("_rate"));
    assert!(
        counter
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)),
        "{counter}"
    );
}

#[test]
fn every_recommended_policy_is_accepted_by_the_policy_engine() {
    for (tools, policy) in all_fixtures() {
        let parsed = mcpgate_policy::parse_value(&policy)
            .unwrap_or_else(|errors| panic!("rejected: {errors:?}\n{policy:#}"));
        let compiled = mcpgate_policy::compile(&parsed).expect("compiles");
        // Reads stay callable; nothing recommended hides a tool outright.
        for tool in &tools {
            let name = tool.assessment.name.as_str();
            if tool.assessment.classification.category == mcpgate_policy::Category::Read {
                assert!(
                    mcpgate_policy::visible(&compiled, name, Some(tool.assessment.classification)),
                    "{name} should stay visible"
                );
            }
        }
    }
}
