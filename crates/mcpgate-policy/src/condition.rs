//! Conditions on a call's arguments: checked once when compiled, then tested
//! without allocating.
//!
//! A condition whose argument is missing does not hold, whatever its operator,
//! except `exists` with `value: false`. Under `require` a missing argument
//! therefore denies (fail closed); under `deny_if` it does not.

use std::cmp::Ordering;
use std::sync::Arc;

use regex::Regex;
use serde_json::{Number, Value};

use crate::document::{Condition, Op};
use crate::error::Errors;
use crate::path::ArgPath;

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
        let test = compile_test(condition, pointer, errors)?;
        let path = path?;
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
        })
    }

    /// Whether the condition holds for these arguments.
    pub(crate) fn holds(&self, arguments: &Value) -> bool {
        let found = self.path.resolve(arguments);
        let Some(actual) = found else {
            return matches!(self.test, Test::Exists(false));
        };
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
