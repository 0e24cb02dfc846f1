//! Conditions on a call's arguments: checked once when compiled, then tested
//! without allocating (until a call is denied).
//!
//! A condition whose argument cannot be compared fails closed: it is missing, it
//! sits behind a path that cannot be followed (`args.spec.x` where `spec` is a
//! string), or its JSON type is not what the operator and value imply (an array
//! where `eq "prod"` compares strings, a string where `gt 5` compares numbers).
//! Such a condition is *unusable*, and an unusable condition denies the call
//! whether it is a `require` or a `deny_if`, with a reason naming the argument and
//! the types. `exists` tests presence only; `optional: true` lets an absent
//! argument skip the condition (never a mistyped one).

mod kinds;

use std::cmp::Ordering;
use std::sync::Arc;

use regex::Regex;
use serde_json::{Number, Value};

use crate::document::{Condition, Op};
use crate::error::Errors;
use crate::path::{ArgPath, Lookup};
use kinds::{type_name, Kinds};

/// The comparison of a compiled condition, its operand checked and prepared.
#[derive(Debug)]
enum Test {
    Eq(Value),
    Neq(Value),
    In(Vec<Value>),
    NotIn(Vec<Value>),
    Compare(Number, fn(Ordering) -> bool),
    Regex(Regex),
    Contains(Value),
    Exists(bool),
    Prefix(String),
    MaxLength(u64),
}

/// A condition ready to test, with the sentences it gives when it blocks.
#[derive(Debug)]
pub(crate) struct CompiledCondition {
    path: ArgPath,
    test: Test,
    op: Op,
    /// The types of argument the test can compare.
    accepts: Kinds,
    /// For `contains` on an array: the types its items must have.
    items: Kinds,
    /// What the argument must be, for reasons: "a string or an array of strings".
    expected: Box<str>,
    /// Whether an absent argument skips the condition.
    optional: bool,
    /// Where the condition is in the document.
    pub(crate) pointer: Arc<str>,
    /// The reason when a `require` condition fails.
    pub(crate) unmet_reason: Arc<str>,
    /// The reason when a `deny_if` condition holds.
    pub(crate) met_reason: Arc<str>,
}

impl CompiledCondition {
    /// Checks and prepares a condition, recording errors under `pointer`.
    pub(crate) fn compile(
        condition: &Condition,
        pointer: &str,
        errors: &mut Errors,
    ) -> Option<Self> {
        let path = ArgPath::parse(&condition.path)
            .map_err(|message| errors.push(&format!("{pointer}/path"), message))
            .ok();
        if condition.optional && condition.op == Op::Exists {
            let message = "`optional` cannot be used with `exists`, which tests presence itself";
            errors.push(&format!("{pointer}/optional"), message);
        }
        let test = compile_test(condition, pointer, errors)?;
        let path = path?;
        let (accepts, items) = test.kinds();
        let expected = describe_expected(accepts, items);
        let operand = match &condition.value {
            Some(value) => value.to_string(),
            None => "true".to_owned(),
        };
        let (must, is) = describe(condition.op, &operand);
        let custom = condition.reason.as_deref().map(Arc::<str>::from);
        let argument = path.as_str();
        Some(CompiledCondition {
            unmet_reason: custom
                .clone()
                .unwrap_or_else(|| format!("Argument `{argument}` {must}.").into()),
            met_reason: custom
                .unwrap_or_else(|| format!("Call denied: argument `{argument}` {is}.").into()),
            pointer: pointer.into(),
            path,
            test,
            op: condition.op,
            accepts,
            items,
            expected: expected.into(),
            optional: condition.optional,
        })
    }

    /// Tests the condition against a call's arguments.
    pub(crate) fn check<'v>(&self, arguments: &'v Value) -> Check<'v> {
        let actual = match self.path.lookup(arguments) {
            Lookup::Found(actual) => actual,
            Lookup::Blocked { depth, found } => {
                return Check::Unusable(Unusable::Blocked { depth, found })
            }
            Lookup::Missing => {
                return match self.test {
                    Test::Exists(present) => Check::from(!present),
                    _ if self.optional => Check::Skipped,
                    _ => Check::Unusable(Unusable::Missing),
                }
            }
        };
        if !self.accepts.admits(actual) {
            return Check::Unusable(Unusable::Mistyped(actual));
        }
        if let (Test::Contains(_), Value::Array(items)) = (&self.test, actual) {
            if let Some(item) = items.iter().find(|item| !self.items.admits(item)) {
                return Check::Unusable(Unusable::MistypedItem(item));
            }
        }
        Check::from(self.holds(actual))
    }

    /// The reason a call is denied because this condition is unusable.
    pub(crate) fn unusable_reason(&self, unusable: Unusable<'_>) -> Arc<str> {
        let argument = self.path.as_str();
        let op = op_name(self.op);
        let expected = &self.expected;
        let reason = match unusable {
            Unusable::Missing => format!(
                "Call denied: argument `{argument}` is missing, and the `{op}` condition on it \
                 needs {expected}."
            ),
            Unusable::Blocked { depth, found } => format!(
                "Call denied: argument `{argument}` cannot be checked: `{}` must be {}, but it \
                 is {}.",
                self.path.prefix(depth),
                self.path.container_at(depth),
                type_name(found)
            ),
            Unusable::Mistyped(found) => format!(
                "Call denied: argument `{argument}` must be {expected} for the `{op}` condition \
                 on it, but it is {}.",
                type_name(found)
            ),
            Unusable::MistypedItem(item) => format!(
                "Call denied: argument `{argument}` must be {expected} for the `{op}` condition \
                 on it, but it is an array with {} in it.",
                type_name(item)
            ),
        };
        reason.into()
    }

    /// Whether the condition holds for a present value of an accepted type.
    fn holds(&self, actual: &Value) -> bool {
        match &self.test {
            Test::Eq(expected) => json_eq(actual, expected),
            Test::Neq(expected) => !json_eq(actual, expected),
            Test::In(options) => options.iter().any(|option| json_eq(actual, option)),
            Test::NotIn(options) => !options.iter().any(|option| json_eq(actual, option)),
            Test::Compare(bound, accept) => match actual {
                Value::Number(number) => compare(number, bound).is_some_and(accept),
                _ => false,
            },
            Test::Regex(regex) => actual.as_str().is_some_and(|text| regex.is_match(text)),
            Test::Contains(needle) => match (actual, needle) {
                (Value::String(text), Value::String(part)) => text.contains(part.as_str()),
                (Value::Array(items), needle) => items.iter().any(|item| json_eq(item, needle)),
                _ => false,
            },
            Test::Exists(present) => *present,
            Test::Prefix(prefix) => actual
                .as_str()
                .is_some_and(|t| t.starts_with(prefix.as_str())),
            Test::MaxLength(max) => {
                let length = match actual {
                    Value::String(text) => text.chars().count(),
                    Value::Array(items) => items.len(),
                    Value::Object(map) => map.len(),
                    _ => return false,
                };
                u64::try_from(length).is_ok_and(|length| length <= *max)
            }
        }
    }
}

/// What testing a condition found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Check<'v> {
    /// The condition holds: a `require` is met, a `deny_if` denies.
    Holds,
    /// The condition does not hold: a `require` denies, a `deny_if` is passed.
    Fails,
    /// An `optional` condition whose argument is absent: passed in either list.
    Skipped,
    /// The argument cannot be compared: the call is denied in either list.
    Unusable(Unusable<'v>),
}

impl From<bool> for Check<'_> {
    fn from(holds: bool) -> Self {
        if holds {
            Check::Holds
        } else {
            Check::Fails
        }
    }
}

/// Why a condition's argument cannot be compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Unusable<'v> {
    /// It is absent.
    Missing,
    /// Step `depth` of its path cannot be taken from `found`.
    Blocked { depth: usize, found: &'v Value },
    /// Its type is not one the operator and value imply.
    Mistyped(&'v Value),
    /// It is an array for `contains`, with an item of another type than the value.
    MistypedItem(&'v Value),
}

impl Test {
    /// The types of argument this test compares, and (for `contains`) of array items.
    fn kinds(&self) -> (Kinds, Kinds) {
        let only = |kinds| (kinds, Kinds::ANY);
        match self {
            Test::Eq(operand) | Test::Neq(operand) => only(Kinds::like(operand)),
            Test::In(options) | Test::NotIn(options) => only(Kinds::like_any(options)),
            Test::Compare(..) => only(Kinds::NUMBER),
            Test::Regex(_) | Test::Prefix(_) => only(Kinds::STRING),
            Test::Contains(needle @ Value::String(_)) => {
                (Kinds::STRING.or(Kinds::ARRAY), Kinds::of(needle))
            }
            Test::Contains(needle) => (Kinds::ARRAY, Kinds::like(needle)),
            Test::MaxLength(_) => only(Kinds::STRING.or(Kinds::ARRAY).or(Kinds::OBJECT)),
            Test::Exists(_) => only(Kinds::ANY),
        }
    }
}

/// "a string or an array of strings", "an array", "a number".
fn describe_expected(accepts: Kinds, items: Kinds) -> String {
    if items == Kinds::ANY || accepts == Kinds::ANY {
        return accepts.describe();
    }
    let array_of = format!("an array of {}", items.describe_plural());
    if accepts == Kinds::ARRAY {
        array_of
    } else {
        format!("{} or {array_of}", Kinds::STRING.describe())
    }
}

fn compile_test(condition: &Condition, pointer: &str, errors: &mut Errors) -> Option<Test> {
    let at = format!("{pointer}/value");
    let value = condition.value.as_ref();
    let Some(value) = value else {
        if condition.op == Op::Exists {
            return Some(Test::Exists(true));
        }
        errors.push(
            &at,
            format!("operator `{}` needs a `value`", op_name(condition.op)),
        );
        return None;
    };
    let mut wrong = |expected: &str| {
        let message = format!(
            "operator `{}` needs {expected}, got {value}",
            op_name(condition.op)
        );
        errors.push(&at, message);
        None
    };
    let compare = |accept: fn(Ordering) -> bool| match value {
        Value::Number(bound) => Some(Test::Compare(bound.clone(), accept)),
        _ => None,
    };
    let test = match condition.op {
        Op::Eq => Some(Test::Eq(value.clone())),
        Op::Neq => Some(Test::Neq(value.clone())),
        Op::In => value.as_array().map(|items| Test::In(items.clone())),
        Op::NotIn => value.as_array().map(|items| Test::NotIn(items.clone())),
        Op::Lt => compare(Ordering::is_lt),
        Op::Lte => compare(Ordering::is_le),
        Op::Gt => compare(Ordering::is_gt),
        Op::Gte => compare(Ordering::is_ge),
        Op::Contains => Some(Test::Contains(value.clone())),
        Op::Exists => value.as_bool().map(Test::Exists),
        Op::Prefix => value.as_str().map(|text| Test::Prefix(text.to_owned())),
        Op::MaxLength => value.as_u64().map(Test::MaxLength),
        Op::Regex => {
            let Some(text) = value.as_str() else {
                return wrong("a regular expression as a string");
            };
            return match Regex::new(text) {
                Ok(regex) => Some(Test::Regex(regex)),
                Err(error) => {
                    errors.push(&at, format!("invalid regex: {error}"));
                    None
                }
            };
        }
    };
    test.or_else(|| {
        wrong(match condition.op {
            Op::In | Op::NotIn => "an array of values",
            Op::Exists => "true or false",
            Op::Prefix => "a string",
            Op::MaxLength => "a whole number of at least 0",
            _ => "a number",
        })
    })
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
fn json_eq(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => compare(a, b) == Some(Ordering::Equal),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| json_eq(x, y)))
        }
        _ => left == right,
    }
}

/// Numeric comparison, exact for integers and by value otherwise.
fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Neq => "neq",
        Op::In => "in",
        Op::NotIn => "not_in",
        Op::Lt => "lt",
        Op::Lte => "lte",
        Op::Gt => "gt",
        Op::Gte => "gte",
        Op::Regex => "regex",
        Op::Contains => "contains",
        Op::Exists => "exists",
        Op::Prefix => "prefix",
        Op::MaxLength => "max_length",
    }
}

/// What the argument must be (for `require`) and what it is (for `deny_if`).
fn describe(op: Op, v: &str) -> (String, String) {
    let pair = |must: &str, is: &str| (format!("{must} {v}"), format!("{is} {v}"));
    match op {
        Op::Eq => pair("must equal", "equals"),
        Op::Neq => pair("must not equal", "does not equal"),
        Op::In => pair("must be one of", "is one of"),
        Op::NotIn => pair("must not be one of", "is not one of"),
        Op::Lt => pair("must be less than", "is less than"),
        Op::Lte => pair("must be at most", "is at most"),
        Op::Gt => pair("must be greater than", "is greater than"),
        Op::Gte => pair("must be at least", "is at least"),
        Op::Regex => pair("must match the pattern", "matches the pattern"),
        Op::Contains => pair("must contain", "contains"),
        Op::Prefix => pair("must start with", "starts with"),
        Op::MaxLength => (
            format!("must be at most {v} characters or items long"),
            format!("is at most {v} characters or items long"),
        ),
        Op::Exists if v == "false" => ("must not be given".into(), "is not given".into()),
        Op::Exists => ("is required".into(), "is given".into()),
    }
}
