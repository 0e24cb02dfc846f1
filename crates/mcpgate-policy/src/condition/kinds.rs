//! Which JSON types a condition can compare, and how to say so in a reason.
//!
//! A value of any other type is *unusable*: the condition neither holds nor fails,
//! and the call is denied whichever list the condition is in (fail closed).

use serde_json::Value;

/// A set of JSON types, one bit each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Kinds(u8);

/// The types in the order reasons list them, with their singular and plural names.
const NAMES: [(Kinds, &str, &str); 6] = [
    (Kinds::STRING, "a string", "strings"),
    (Kinds::NUMBER, "a number", "numbers"),
    (Kinds::BOOL, "a boolean", "booleans"),
    (Kinds::ARRAY, "an array", "arrays"),
    (Kinds::OBJECT, "an object", "objects"),
    (Kinds::NULL, "null", "nulls"),
];

impl Kinds {
    pub(crate) const NULL: Kinds = Kinds(1);
    pub(crate) const BOOL: Kinds = Kinds(2);
    pub(crate) const NUMBER: Kinds = Kinds(4);
    pub(crate) const STRING: Kinds = Kinds(8);
    pub(crate) const ARRAY: Kinds = Kinds(16);
    pub(crate) const OBJECT: Kinds = Kinds(32);
    pub(crate) const ANY: Kinds = Kinds(63);

    /// The type of one value.
    pub(crate) fn of(value: &Value) -> Kinds {
        match value {
            Value::Null => Kinds::NULL,
            Value::Bool(_) => Kinds::BOOL,
            Value::Number(_) => Kinds::NUMBER,
            Value::String(_) => Kinds::STRING,
            Value::Array(_) => Kinds::ARRAY,
            Value::Object(_) => Kinds::OBJECT,
        }
    }

    /// What an equality against `operand` can compare: its own type. `null` implies
    /// no type (`eq null` asks "is it null?" of any value).
    pub(crate) fn like(operand: &Value) -> Kinds {
        if operand.is_null() {
            Kinds::ANY
        } else {
            Kinds::of(operand)
        }
    }

    /// What membership in `options` can compare: their types, and null. A list with
    /// no typed item implies no type.
    pub(crate) fn like_any(options: &[Value]) -> Kinds {
        let typed = options
            .iter()
            .filter(|option| !option.is_null())
            .fold(Kinds(0), |kinds, option| kinds.or(Kinds::of(option)));
        if typed == Kinds(0) {
            Kinds::ANY
        } else {
            typed.or(Kinds::NULL)
        }
    }

    pub(crate) const fn or(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    /// Whether the value's type is in the set.
    pub(crate) fn admits(self, value: &Value) -> bool {
        self.0 & Kinds::of(value).0 != 0
    }

    /// "a string or an array", for reasons.
    pub(crate) fn describe(self) -> String {
        join(
            NAMES
                .iter()
                .filter(|(kind, _, _)| self.0 & kind.0 != 0)
                .map(|(_, one, _)| *one),
        )
    }

    /// "strings or numbers", for "an array of …".
    pub(crate) fn describe_plural(self) -> String {
        join(
            NAMES
                .iter()
                .filter(|(kind, _, _)| self.0 & kind.0 != 0)
                .map(|(_, _, many)| *many),
        )
    }
}

/// A short name for a JSON value's type: "a string", "null".
pub(crate) fn type_name(value: &Value) -> &'static str {
    let kind = Kinds::of(value);
    NAMES
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or("a value", |(_, one, _)| *one)
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.split_last() {
        None => "nothing".to_owned(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::Kinds;
    use serde_json::json;

    #[test]
    fn descriptions_read_as_english() {
        assert_eq!(
            Kinds::STRING.or(Kinds::ARRAY).describe(),
            "a string or an array"
        );
        assert_eq!(
            Kinds::like_any(&[json!("a"), json!(1)]).describe(),
            "a string, a number or null"
        );
        assert_eq!(Kinds::like_any(&[json!(null)]), Kinds::ANY);
        assert_eq!(Kinds::like(&json!(null)), Kinds::ANY);
        assert_eq!(Kinds::NUMBER.describe_plural(), "numbers");
    }
}
