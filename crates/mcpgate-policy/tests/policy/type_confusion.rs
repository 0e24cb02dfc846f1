//! Type confusion fails closed: a condition whose argument is not of the type its
//! operator and value imply, is missing, or sits behind a path that cannot be
//! followed, denies the call under `require` and under `deny_if` alike.
//!
//! The oracle here ([`accepts`]) is written from the table in `docs/policy.md`, not
//! from the engine, so the properties check the engine against the documentation.

use mcpgate_policy::{Decision, Op, Outcome};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::{decide, policy};

/// The JSON types, as the oracle sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

const KINDS: [Kind; 6] = [
    Kind::Null,
    Kind::Bool,
    Kind::Number,
    Kind::String,
    Kind::Array,
    Kind::Object,
];

/// Every operator that compares the argument's value (all but `exists`).
const COMPARING: [Op; 12] = [
    Op::Eq,
    Op::Neq,
    Op::In,
    Op::NotIn,
    Op::Lt,
    Op::Lte,
    Op::Gt,
    Op::Gte,
    Op::Regex,
    Op::Contains,
    Op::Prefix,
    Op::MaxLength,
];

fn kind_of(value: &Value) -> Kind {
    match value {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

/// How the engine's messages name a type.
fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Null => "null",
        Kind::Bool => "a boolean",
        Kind::Number => "a number",
        Kind::String => "a string",
        Kind::Array => "an array",
        Kind::Object => "an object",
    }
}

fn op_name(op: Op) -> String {
    serde_json::to_value(op)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z/:.]{0,8}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(2, 12, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::from),
            btree_map("[a-c]", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Any value of one JSON type.
fn value_of(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Null => Just(Value::Null).boxed(),
        Kind::Bool => any::<bool>().prop_map(Value::from).boxed(),
        Kind::Number => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
        ]
        .boxed(),
        Kind::String => "\\PC{0,10}".prop_map(Value::from).boxed(),
        Kind::Array => vec(json_value(), 0..3).prop_map(Value::from).boxed(),
        Kind::Object => btree_map("[a-c]", json_value(), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
            .boxed(),
    }
}

/// A valid operand for `op`.
fn operand(op: Op) -> BoxedStrategy<Value> {
    match op {
        Op::Eq | Op::Neq | Op::Contains => json_value().boxed(),
        Op::In | Op::NotIn => vec(json_value(), 0..4).prop_map(Value::from).boxed(),
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => value_of(Kind::Number),
        Op::Regex => "[a-z]{1,3}\\$?".prop_map(Value::from).boxed(),
        Op::Prefix => "[a-z/]{0,5}".prop_map(Value::from).boxed(),
        Op::MaxLength => (0u64..8).prop_map(Value::from).boxed(),
        Op::Exists => any::<bool>().prop_map(Value::from).boxed(),
    }
}

/// The types of argument an operator with this operand can compare, per the docs:
/// `None` when any type can be compared (an operand of `null` implies no type).
fn accepts(op: Op, operand: &Value) -> Option<Vec<Kind>> {
    let kinds = match op {
        Op::Eq | Op::Neq if operand.is_null() => return None,
        Op::Eq | Op::Neq => vec![kind_of(operand)],
        Op::In | Op::NotIn => {
            let items = operand.as_array().unwrap();
            let mut kinds: Vec<Kind> = items.iter().map(kind_of).collect();
            if kinds.iter().all(|k| *k == Kind::Null) {
                return None;
            }
            kinds.push(Kind::Null);
            kinds
        }
        Op::Lt | Op::Lte | Op::Gt | Op::Gte => vec![Kind::Number],
        Op::Regex | Op::Prefix => vec![Kind::String],
        Op::Contains if operand.is_string() => vec![Kind::String, Kind::Array],
        Op::Contains => vec![Kind::Array],
        Op::MaxLength => vec![Kind::String, Kind::Array, Kind::Object],
        Op::Exists => return None,
    };
    Some(kinds)
}

/// An operator, a valid operand, and a value of a type the operator cannot compare.
fn mismatch() -> impl Strategy<Value = (Op, Value, Value)> {
    proptest::sample::select(COMPARING.to_vec())
        .prop_flat_map(|op| (Just(op), operand(op)))
        .prop_filter("the operand leaves some type out", |(op, operand)| {
            accepts(*op, operand).is_some_and(|kinds| KINDS.iter().any(|k| !kinds.contains(k)))
        })
        .prop_flat_map(|(op, operand)| {
            let accepted = accepts(op, &operand).unwrap();
            let others: Vec<Kind> = KINDS
                .into_iter()
                .filter(|k| !accepted.contains(k))
                .collect();
            let kind = proptest::sample::select(others);
            (Just(op), Just(operand), kind.prop_flat_map(value_of))
        })
}

/// Where the argument sits: at the top, or nested through objects and arrays.
const PATHS: [&str; 3] = ["args.x", "args.spec.containers.0.image", "args.a.1"];

/// Arguments with `value` at `path` (the arrays on the way padded with `{}`).
fn place(path: &str, value: Value) -> Value {
    let steps: Vec<&str> = path.split('.').skip(1).collect();
    steps
        .iter()
        .rev()
        .fold(value, |inner, step| match step.parse::<usize>() {
            Ok(index) => {
                let mut items = vec![json!({}); index];
                items.push(inner);
                Value::Array(items)
            }
            Err(_) => json!({ *step: inner }),
        })
}

/// The decision of a rule with one condition, under `require` and under `deny_if`.
fn both(path: &str, op: Op, operand: &Value, arguments: &Value) -> [Decision; 2] {
    ["require", "deny_if"].map(|field| {
        let condition = json!({"path": path, "op": op, "value": operand});
        let policy = policy(json!({"version": "1", "tools": {"t": {field: [condition]}}}));
        decide(&policy, "t", arguments.clone())
    })
}

proptest! {
    #[test]
    fn a_value_of_the_wrong_type_is_denied_under_require_and_deny_if(
        (op, operand, actual) in mismatch(),
        path in proptest::sample::select(PATHS.to_vec()),
    ) {
        let arguments = place(path, actual.clone());
        for decision in both(path, op, &operand, &arguments) {
            prop_assert_eq!(decision.outcome, Outcome::Deny, "{} {} on {}: {:?}", op_name(op), operand, actual, decision);
            let reason = decision.reason.as_deref().unwrap_or_default();
            prop_assert!(reason.contains(&format!("`{path}`")), "{}", reason);
            prop_assert!(reason.contains(kind_name(kind_of(&actual))), "{}", reason);
            prop_assert!(reason.contains(&format!("`{}`", op_name(op))), "{}", reason);
        }
    }

    #[test]
    fn an_array_with_an_item_of_another_type_than_the_contains_value_is_denied(
        needle in scalar().prop_filter("a typed needle", |v| !v.is_null()),
        stray in json_value(),
        others in 0usize..3,
    ) {
        prop_assume!(kind_of(&stray) != kind_of(&needle));
        let mut items = vec![needle.clone(); others];
        items.push(stray);
        let arguments = json!({"x": items});
        for decision in both("args.x", Op::Contains, &needle, &arguments) {
            prop_assert_eq!(decision.outcome, Outcome::Deny, "{:?}", decision);
            prop_assert!(decision.reason.as_deref().unwrap_or_default().contains("`args.x`"));
        }
    }

    #[test]
    fn a_missing_argument_is_denied_under_require_and_deny_if(
        op in proptest::sample::select(COMPARING.to_vec()).prop_flat_map(|op| (Just(op), operand(op))),
        path in proptest::sample::select(PATHS.to_vec()),
        present in btree_map("[d-f]", json_value(), 0..3),
    ) {
        let (op, operand) = op;
        let arguments = Value::Object(present.into_iter().collect());
        for decision in both(path, op, &operand, &arguments) {
            prop_assert_eq!(decision.outcome, Outcome::Deny, "{} on {}", op_name(op), arguments);
            let reason = decision.reason.as_deref().unwrap_or_default();
            prop_assert!(reason.contains(&format!("`{path}`")) && reason.contains("missing"), "{}", reason);
        }
    }

    #[test]
    fn a_path_that_runs_into_a_value_it_cannot_step_through_is_denied_for_every_operator(
        op in proptest::sample::select([COMPARING.as_slice(), &[Op::Exists]].concat())
            .prop_flat_map(|op| (Just(op), operand(op))),
        blocker in json_value().prop_filter("not an object", |v| !v.is_object()),
    ) {
        let (op, operand) = op;
        // `spec` must be an object to step into `containers`.
        let arguments = json!({"spec": blocker});
        for decision in both("args.spec.containers.0.image", op, &operand, &arguments) {
            prop_assert_eq!(decision.outcome, Outcome::Deny, "{} with spec = {}", op_name(op), arguments["spec"]);
            let reason = decision.reason.as_deref().unwrap_or_default();
            prop_assert!(reason.contains("`args.spec`"), "{}", reason);
        }
    }

    #[test]
    fn exists_still_means_presence_whatever_the_type(actual in json_value(), want in any::<bool>()) {
        let arguments = json!({"x": actual});
        let [require, deny_if] = both("args.x", Op::Exists, &json!(want), &arguments);
        let (required, denied) = if want { (Outcome::Allow, Outcome::Deny) } else { (Outcome::Deny, Outcome::Allow) };
        prop_assert_eq!(require.outcome, required);
        prop_assert_eq!(deny_if.outcome, denied);
        let [require, deny_if] = both("args.x", Op::Exists, &json!(want), &json!({}));
        prop_assert_eq!(require.outcome, denied);
        prop_assert_eq!(deny_if.outcome, required);
    }

    #[test]
    fn for_a_value_of_the_right_type_require_and_deny_if_are_opposites(
        (op, operand) in proptest::sample::select(COMPARING.to_vec()).prop_flat_map(|op| (Just(op), operand(op))),
        actual in json_value(),
    ) {
        let fits = match accepts(op, &operand) {
            None => true,
            Some(kinds) => kinds.contains(&kind_of(&actual)),
        };
        let items_fit = match (op, &actual) {
            (Op::Contains, Value::Array(items)) if !operand.is_null() => {
                items.iter().all(|item| kind_of(item) == kind_of(&operand))
            }
            _ => true,
        };
        prop_assume!(fits && items_fit);
        let [require, deny_if] = both("args.x", op, &operand, &json!({"x": actual}));
        prop_assert_ne!(require.outcome, deny_if.outcome, "{} {} on {}", op_name(op), operand, actual);
    }
}

#[test]
fn a_list_where_a_string_is_compared_no_longer_slips_past_deny_if_or_not_in() {
    let deny_if = policy(
        json!({"version": "1", "tools": {"k8s_run_pod": {"deny_if": [
        {"path": "args.namespace", "op": "eq", "value": "kube-system"}]}}}),
    );
    let precondition = decide(&deny_if, "k8s_run_pod", json!({"namespace": "kube-system"}));
    assert_eq!(precondition.outcome, Outcome::Deny);
    let smuggled = decide(
        &deny_if,
        "k8s_run_pod",
        json!({"namespace": ["kube-system"]}),
    );
    assert_eq!(smuggled.outcome, Outcome::Deny);
    assert_eq!(&*smuggled.rule, "/tools/k8s_run_pod/deny_if/0");
    assert_eq!(
        smuggled.reason.as_deref(),
        Some(
            "Call denied: argument `args.namespace` must be a string for the `eq` condition \
             on it, but it is an array."
        )
    );
    let require = policy(
        json!({"version": "1", "tools": {"k8s_run_pod": {"require": [
        {"path": "args.namespace", "op": "not_in", "value": ["kube-system"]}]}}}),
    );
    let web = decide(&require, "k8s_run_pod", json!({"namespace": "web"}));
    assert_eq!(web.outcome, Outcome::Allow);
    let smuggled = decide(
        &require,
        "k8s_run_pod",
        json!({"namespace": ["kube-system"]}),
    );
    assert_eq!(smuggled.outcome, Outcome::Deny);
}

#[test]
fn a_string_where_a_number_is_compared_is_denied_naming_both_types() {
    let policy = policy(json!({"version": "1", "tools": {"scale": {"deny_if": [
        {"path": "args.replicas", "op": "gt", "value": 5}]}}}));
    assert_eq!(
        decide(&policy, "scale", json!({"replicas": 3})).outcome,
        Outcome::Allow
    );
    let decision = decide(&policy, "scale", json!({"replicas": "500"}));
    assert_eq!(decision.outcome, Outcome::Deny);
    assert_eq!(
        decision.reason.as_deref(),
        Some(
            "Call denied: argument `args.replicas` must be a number for the `gt` condition \
             on it, but it is a string."
        )
    );
}

#[test]
fn an_optional_condition_skips_an_absent_argument_but_not_a_mistyped_one() {
    for field in ["require", "deny_if"] {
        // `require force == false` and `deny_if force == true` say the same thing.
        let value = field == "deny_if";
        let strict = policy(json!({"version": "1", "tools": {"delete": {field: [
            {"path": "args.force", "op": "eq", "value": value}]}}}));
        let absent = decide(&strict, "delete", json!({}));
        assert_eq!(absent.outcome, Outcome::Deny, "{field}");
        assert_eq!(
            absent.reason.as_deref(),
            Some(
                "Call denied: argument `args.force` is missing, and the `eq` condition on it \
                 needs a boolean."
            )
        );
        let optional = policy(json!({"version": "1", "tools": {"delete": {field: [
            {"path": "args.force", "op": "eq", "value": value, "optional": true}]}}}));
        assert_eq!(
            decide(&optional, "delete", json!({})).outcome,
            Outcome::Allow,
            "{field}"
        );
        assert_eq!(
            decide(&optional, "delete", json!({"force": false})).outcome,
            Outcome::Allow,
            "{field}"
        );
        assert_eq!(
            decide(&optional, "delete", json!({"force": true})).outcome,
            Outcome::Deny,
            "{field}"
        );
        assert_eq!(
            decide(&optional, "delete", json!({"force": "true"})).outcome,
            Outcome::Deny,
            "{field}"
        );
        assert_eq!(
            decide(&optional, "delete", json!({"force": null})).outcome,
            Outcome::Deny,
            "{field}: null is a value, not an absence"
        );
    }
}

#[test]
fn optional_is_refused_with_exists_and_must_be_a_boolean() {
    let errors = super::errors(json!({"version": "1", "tools": {"t": {"require": [
        {"path": "args.x", "op": "exists", "optional": true},
        {"path": "args.y", "op": "eq", "value": 1, "optional": "yes"}]}}}));
    super::assert_error(
        &errors,
        "/tools/t/require/0/optional",
        "cannot be used with `exists`",
    );
    super::assert_error(
        &errors,
        "/tools/t/require/1/optional",
        "expected true or false",
    );
}

#[test]
fn a_contains_on_an_array_checks_every_item_type() {
    let policy = policy(json!({"version": "1", "tools": {"run": {"deny_if": [
        {"path": "args.flags", "op": "contains", "value": "--privileged"}]}}}));
    let flags = |flags: Value| decide(&policy, "run", json!({ "flags": flags }));
    assert_eq!(flags(json!(["-it", "--rm"])).outcome, Outcome::Allow);
    assert_eq!(flags(json!(["--privileged"])).outcome, Outcome::Deny);
    let nested = flags(json!([["--privileged"]]));
    assert_eq!(nested.outcome, Outcome::Deny);
    assert_eq!(
        nested.reason.as_deref(),
        Some(
            "Call denied: argument `args.flags` must be a string or an array of strings for \
             the `contains` condition on it, but it is an array with an array in it."
        )
    );
}

#[test]
fn a_path_through_an_array_by_name_is_denied_naming_the_step() {
    let policy = policy(json!({"version": "1", "tools": {"run": {"deny_if": [
        {"path": "args.spec.containers.0.securityContext.privileged", "op": "eq", "value": true}]}}}));
    let fine = json!({"spec": {"containers": [{"securityContext": {"privileged": false}}]}});
    assert_eq!(decide(&policy, "run", fine).outcome, Outcome::Allow);
    let reshaped = json!({"spec": [{"containers": [{"securityContext": {"privileged": true}}]}]});
    let decision = decide(&policy, "run", reshaped);
    assert_eq!(decision.outcome, Outcome::Deny);
    assert_eq!(
        decision.reason.as_deref(),
        Some(
            "Call denied: argument `args.spec.containers.0.securityContext.privileged` cannot \
             be checked: `args.spec` must be an object, but it is an array."
        )
    );
}
