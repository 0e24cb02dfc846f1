//! Property tests: round trips, no panics, default deny, shadow, precedence.

use mcpgate_policy::{
    compile, evaluate, evaluate_method, parse_value, Action, AllTools, Category, ClassMatch,
    ClassRule, Classification, CounterName, DefaultAction, Hide, Limit, MethodCall, Mode, Op,
    Outcome, Policy, Risk, Rule, Scope, Settings, Span, ToolCall,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{json, Value};

const NAMES: &[&str] = &[
    "read_file",
    "write_file",
    "k8s_run_pod",
    "k8s_delete_pod",
    "send_email",
];
const GLOBS: &[&str] = &["k8s_*", "k8s_delete_*", "*_file", "send_?mail", "*"];
const METHODS: &[&str] = &[
    "resources/read",
    "resources/subscribe",
    "prompts/get",
    "completion/complete",
    "tasks/get",
];
const METHOD_GLOBS: &[&str] = &["resources/*", "tasks/*", "*/get", "*"];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z/:.]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::from),
            btree_map("[a-e]", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arg_path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("args".to_owned()),
        "(\\.[a-e0-2]){1,3}".prop_map(|s| format!("args{s}"))
    ]
}

fn condition() -> impl Strategy<Value = mcpgate_policy::Condition> {
    let operand = prop_oneof![
        (Just(Op::Eq), json_value().prop_map(Some)),
        (Just(Op::Neq), json_value().prop_map(Some)),
        (
            Just(Op::In),
            vec(json_value(), 0..3).prop_map(|v| Some(Value::from(v)))
        ),
        (
            Just(Op::NotIn),
            vec(json_value(), 0..3).prop_map(|v| Some(Value::from(v)))
        ),
        (Just(Op::Lt), any::<i32>().prop_map(|n| Some(json!(n)))),
        (Just(Op::Gte), any::<i32>().prop_map(|n| Some(json!(n)))),
        (
            Just(Op::Regex),
            "[a-z]{1,4}\\$?".prop_map(|s| Some(json!(s)))
        ),
        (Just(Op::Contains), json_value().prop_map(Some)),
        (
            Just(Op::Exists),
            option::of(any::<bool>().prop_map(Value::from))
        ),
        (Just(Op::Prefix), "[a-z/]{0,6}".prop_map(|s| Some(json!(s)))),
        (Just(Op::MaxLength), (0u64..20).prop_map(|n| Some(json!(n)))),
    ];
    (
        arg_path(),
        operand,
        option::of("[A-Za-z ]{1,20}"),
        any::<bool>(),
    )
        .prop_map(
            |(path, (op, value), reason, optional)| mcpgate_policy::Condition {
                path,
                op,
                value,
                reason,
                // `optional` means nothing to `exists`, and is refused with it.
                optional: optional && op != Op::Exists,
            },
        )
}

/// Limits whose counter name fixes window, scope and max, so shared counters agree.
fn limit() -> impl Strategy<Value = Limit> {
    (0usize..4, option::of(arg_path())).prop_map(|(n, increment_from)| Limit {
        counter: CounterName::parse(&format!("c{n}")).unwrap(),
        window: Span::from_seconds([1, 60, 90, 86_400][n]).unwrap(),
        max: [1, 10, 100, 5_000][n],
        scope: [Scope::Grant, Scope::Server, Scope::Tenant, Scope::Grant][n],
        increment_from,
    })
}

fn rule() -> impl Strategy<Value = Rule> {
    let action = prop_oneof![
        Just(Action::Allow),
        Just(Action::Deny),
        Just(Action::RequireApproval)
    ];
    let mode = option::of(prop_oneof![Just(Mode::Enforce), Just(Mode::Shadow)]);
    (
        action,
        option::of("[A-Za-z ]{1,20}"),
        mode,
        vec(condition(), 0..3),
        vec(condition(), 0..3),
        vec(limit(), 0..3),
    )
        .prop_map(|(action, reason, mode, require, deny_if, limits)| Rule {
            action,
            reason,
            mode,
            require,
            deny_if,
            limits,
        })
}

fn risk() -> impl Strategy<Value = Risk> {
    proptest::sample::select(Risk::ALL.to_vec())
}

fn class_match() -> impl Strategy<Value = ClassMatch> {
    let category = proptest::sample::select(Category::ALL.to_vec());
    (option::of(category), option::of(risk()), option::of(risk()))
        .prop_filter("one field", |(c, r, a)| {
            c.is_some() || r.is_some() || a.is_some()
        })
        .prop_map(|(category, risk, risk_at_least)| ClassMatch {
            category,
            risk,
            risk_at_least,
        })
}

fn policy() -> impl Strategy<Value = Policy> {
    let tool_key = prop_oneof![
        proptest::sample::select(NAMES),
        proptest::sample::select(GLOBS)
    ];
    let hide = prop_oneof![
        4 => vec(proptest::sample::select(NAMES).prop_map(str::to_owned), 0..2).prop_map(Hide::Tools),
        1 => Just(Hide::All),
    ];
    (
        prop_oneof![Just(DefaultAction::Allow), Just(DefaultAction::Deny)],
        prop_oneof![4 => Just(Mode::Enforce), 1 => Just(Mode::Shadow)],
        hide,
        vec(limit(), 0..2),
        btree_map(tool_key.prop_map(str::to_owned), rule(), 0..5),
        vec((class_match(), rule()), 0..3),
        option::of("[a-z ]{0,10}"),
        btree_map(method_key().prop_map(str::to_owned), rule(), 0..3),
    )
        .prop_map(
            |(default, mode, hide, all_limits, tools, classes, description, methods)| Policy {
                version: "1".into(),
                description,
                default,
                mode,
                hide,
                all_tools: AllTools { limits: all_limits },
                tools,
                classes: classes
                    .into_iter()
                    .map(|(selector, rule)| ClassRule { selector, rule })
                    .collect(),
                methods,
                tests: Vec::new(),
                settings: Settings::default(),
            },
        )
}

fn method_key() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        proptest::sample::select(METHODS),
        proptest::sample::select(METHOD_GLOBS)
    ]
}

fn method_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(METHODS).prop_map(str::to_owned),
        "[a-z]{1,6}/[a-zA-Z]{1,8}",
        "\\PC{0,12}"
    ]
}

fn request(
    policy: &mcpgate_policy::CompiledPolicy,
    method: &str,
    known: bool,
    params: &Value,
) -> mcpgate_policy::Decision {
    let call = MethodCall {
        tenant_id: "t",
        server_id: "s",
        grant_id: "g",
        method,
        target: None,
        params,
        known,
    };
    evaluate_method(policy, &call)
}

fn classification() -> impl Strategy<Value = Option<Classification>> {
    let category = proptest::sample::select(Category::ALL.to_vec());
    option::of((category, risk()).prop_map(|(category, risk)| Classification { category, risk }))
}

fn tool_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(NAMES).prop_map(str::to_owned),
        "\\PC{0,12}"
    ]
}

fn decide(
    policy: &mcpgate_policy::CompiledPolicy,
    tool: &str,
    class: Option<Classification>,
    args: &Value,
) -> mcpgate_policy::Decision {
    let call = ToolCall {
        tenant_id: "t",
        server_id: "s",
        grant_id: "g",
        tool,
        classification: class,
        arguments: args,
    };
    evaluate(policy, &call)
}

proptest! {
    #[test]
    fn documents_round_trip_through_json(policy in policy()) {
        let text = serde_json::to_value(&policy).unwrap();
        let parsed = parse_value(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed, policy);
    }

    #[test]
    fn evaluate_never_panics(policy in policy(), tool in tool_name(), class in classification(), args in json_value()) {
        let compiled = compile(&policy).unwrap();
        let decision = decide(&compiled, &tool, class, &args);
        if decision.outcome == Outcome::Deny {
            prop_assert!(decision.charges.is_empty());
        }
    }

    #[test]
    fn default_deny_never_allows_an_unlisted_tool(mut policy in policy(), tool in "[a-z_]{1,10}", args in json_value()) {
        policy.default = DefaultAction::Deny;
        policy.mode = Mode::Enforce;
        let compiled = compile(&policy).unwrap();
        let listed = policy.tools.keys().any(|key| glob_matches(key, &tool));
        prop_assume!(!listed);
        let decision = decide(&compiled, &tool, None, &args);
        prop_assert_eq!(decision.outcome, Outcome::Deny);
        prop_assert!(!mcpgate_policy::visible(&compiled, &tool, None));
    }

    #[test]
    fn shadow_mode_never_blocks(mut policy in policy(), tool in tool_name(), class in classification(), args in json_value()) {
        policy.mode = Mode::Shadow;
        let clear = |rule: &mut Rule| rule.mode = None;
        policy.tools.values_mut().for_each(clear);
        policy.classes.iter_mut().for_each(|class| class.rule.mode = None);
        policy.methods.values_mut().for_each(clear);
        let compiled = compile(&policy).unwrap();
        let decision = decide(&compiled, &tool, class, &args);
        prop_assert_eq!(decision.outcome, Outcome::Allow);
        for known in [true, false] {
            prop_assert_eq!(request(&compiled, &tool, known, &args).outcome, Outcome::Allow);
        }
        for charge in &decision.charges {
            prop_assert_eq!(mcpgate_policy::Decision::limit_exceeded(charge, 1).outcome, Outcome::Allow);
        }
        prop_assert!(mcpgate_policy::visible(&compiled, &tool, class));
    }

    #[test]
    fn an_unknown_method_is_never_allowed_unless_a_methods_key_names_it(
        mut policy in policy(), method in method_name(), params in json_value(),
    ) {
        policy.mode = Mode::Enforce;
        let compiled = compile(&policy).unwrap();
        let named = policy.methods.keys().any(|key| glob_matches(key, &method));
        let decision = request(&compiled, &method, false, &params);
        if named {
            prop_assert!(decision.rule.starts_with("/methods/"), "{}", decision.rule);
        } else {
            prop_assert_eq!(decision.outcome, Outcome::Deny);
            prop_assert_eq!(&*decision.rule, mcpgate_policy::UNKNOWN_METHOD_RULE);
        }
    }

    #[test]
    fn a_known_method_no_key_names_follows_the_default_with_no_charges(
        mut policy in policy(), method in method_name(), params in json_value(),
    ) {
        policy.mode = Mode::Enforce;
        let compiled = compile(&policy).unwrap();
        prop_assume!(!policy.methods.keys().any(|key| glob_matches(key, &method)));
        let decision = request(&compiled, &method, true, &params);
        let expected = match policy.default {
            DefaultAction::Allow => Outcome::Allow,
            DefaultAction::Deny => Outcome::Deny,
        };
        prop_assert_eq!(decision.outcome, expected);
        prop_assert!(decision.charges.is_empty(), "all_tools limits do not apply to methods");
    }

    #[test]
    fn exact_names_beat_globs_and_globs_beat_classes(mut policy in policy(), tool in proptest::sample::select(NAMES), class in classification()) {
        // A spend cap across all tools may deny a call with no amount; that is not selection.
        policy.all_tools.limits.clear();
        let compiled = compile(&policy).unwrap();
        prop_assume!(matches!(&policy.hide, Hide::Tools(names) if names.is_empty()));
        let decision = decide(&compiled, tool, class, &json!({}));
        if policy.tools.contains_key(tool) {
            prop_assert!(decision.rule.starts_with(&format!("/tools/{tool}")), "{}", decision.rule);
        } else if policy.tools.keys().any(|key| glob_matches(key, tool)) {
            prop_assert!(decision.rule.starts_with("/tools/"), "{}", decision.rule);
        }
    }
}

/// A slow, obviously correct glob matcher to check the real one against.
fn glob_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}
