//! `evaluate` on a 200-rule policy with globs, classification selectors and
//! argument regexes. Target: median under 2 µs per call.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mcpgate_policy::{compile, evaluate, parse_value, Category, Classification, Risk, ToolCall};
use serde_json::{json, Map, Value};

/// 140 exact tools, 40 globs and 20 classification rules, most with conditions.
fn policy_document() -> Value {
    let mut tools = Map::new();
    for i in 0..140 {
        tools.insert(
            format!("svc{}_tool_{i}", i % 7),
            json!({
                "require": [{"path": "args.image", "op": "prefix", "value": "registry.internal/"}],
                "deny_if": [
                    {"path": "args.namespace", "op": "in", "value": ["kube-system", "kube-public"]},
                    {"path": "args.spec.containers.0.image", "op": "regex", "value": ":(latest|dev)$"}],
                "limits": [{"counter": format!("rate_{i}"), "window": "minute", "max": 10}]
            }),
        );
    }
    for i in 0..40 {
        tools.insert(
            format!("svc{}_glob_{i}_*", i % 7),
            json!({
                "deny_if": [{"path": "args.query", "op": "regex", "value": "(?i)drop\\s+table"}],
                "limits": [{"counter": "globbed", "window": "hour", "max": 1000, "scope": "tenant"}]
            }),
        );
    }
    let categories = ["read", "write", "destructive", "execute", "credential"];
    let classes: Vec<Value> = (0..20)
        .map(|i| {
            let risk = ["low", "medium", "high", "critical"][i / 5];
            json!({"match": {"category": categories[i % 5], "risk": risk},
                   "action": if i % 2 == 0 { "allow" } else { "require_approval" },
                   "deny_if": [{"path": "args.path", "op": "regex", "value": "^/etc/"}]})
        })
        .collect();
    json!({"version": "1", "default": "deny", "hide": ["admin_*"],
           "all_tools": {"limits": [{"counter": "all", "window": "day", "max": 100000, "scope": "server"}]},
           "tools": tools, "classes": classes})
}

fn bench(c: &mut Criterion) {
    let policy = compile(&parse_value(&policy_document()).expect("valid")).expect("compiles");
    let pod = json!({"image": "registry.internal/app:1.2", "namespace": "web",
                     "spec": {"containers": [{"image": "registry.internal/app:1.2"}]}});
    let query = json!({"query": "select * from users where id = 4"});
    let file = json!({"path": "/home/agent/notes.txt"});
    let cases = [
        ("exact_name", "svc3_tool_73", None, &pod),
        ("glob", "svc5_glob_33_run", None, &query),
        (
            "classification",
            "unlisted_reader",
            Some(Classification {
                category: Category::Execute,
                risk: Risk::High,
            }),
            &file,
        ),
        ("default_deny", "unlisted", None, &file),
    ];
    let mut group = c.benchmark_group("evaluate_200_rules");
    for (name, tool, classification, arguments) in cases {
        let call = ToolCall {
            tenant_id: "0190f1b2-tenant",
            server_id: "0190f1b2-server",
            grant_id: "0190f1b2-grant",
            tool,
            classification,
            arguments,
        };
        group.bench_function(name, |b| {
            b.iter(|| evaluate(black_box(&policy), black_box(&call)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = bench
}
criterion_main!(benches);
