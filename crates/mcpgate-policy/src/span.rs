//! Small validated values of the document: window lengths and counter names.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};

/// A length of time: `second`, `minute`, `hour`, `day`, or `<n>s|m|h|d` (`"90s"`, `"15m"`).
///
/// Between one second and [`Span::MAX_SECONDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    seconds: u64,
}

const UNITS: [(&str, char, u64); 4] = [
    ("day", 'd', 86_400),
    ("hour", 'h', 3_600),
    ("minute", 'm', 60),
    ("second", 's', 1),
];

impl Span {
    /// The longest span accepted: 366 days, so a yearly budget fits.
    pub const MAX_SECONDS: u64 = 366 * 86_400;
    /// One minute.
    pub const MINUTE: Span = Span { seconds: 60 };

    /// A span of this many seconds, if within `1..=MAX_SECONDS`.
    pub fn from_seconds(seconds: u64) -> Option<Span> {
        (1..=Self::MAX_SECONDS)
            .contains(&seconds)
            .then_some(Span { seconds })
    }

    /// The span's length in seconds.
    pub fn seconds(self) -> u64 {
        self.seconds
    }

    /// Reads `second|minute|hour|day` or `<n>s|m|h|d`; the error says what is allowed.
    pub fn parse(text: &str) -> Result<Span, String> {
        let invalid = || {
            format!(
                "invalid duration `{text}`: expected second, minute, hour, day or a whole \
                 number with a unit s, m, h or d (\"90s\", \"15m\"), at most 366d"
            )
        };
        if let Some(&(_, _, unit)) = UNITS.iter().find(|(name, _, _)| *name == text) {
            return Ok(Span { seconds: unit });
        }
        let mut chars = text.chars();
        let suffix = chars.next_back().ok_or_else(invalid)?;
        let number = chars.as_str();
        let &(_, _, unit) = UNITS
            .iter()
            .find(|(_, letter, _)| *letter == suffix)
            .ok_or_else(invalid)?;
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let count: u64 = number.parse().map_err(|_| invalid())?;
        count
            .checked_mul(unit)
            .and_then(Span::from_seconds)
            .ok_or_else(invalid)
    }
}

/// Writes the shortest form: a unit name when exactly one unit, else `<n><unit>`.
impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, letter, unit) in UNITS {
            if self.seconds == unit {
                return f.write_str(name);
            }
            if self.seconds % unit == 0 {
                return write!(f, "{}{letter}", self.seconds / unit);
            }
        }
        write!(f, "{}s", self.seconds)
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for Span {
    fn schema_name() -> Cow<'static, str> {
        "Span".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "second, minute, hour, day, or a whole number with a unit s, m, h or d (\"90s\", \"15m\"); at most 366 days.",
            "type": "string",
            "pattern": "^(second|minute|hour|day|[0-9]+[smhd])$"
        })
    }
}

/// A counter's name: 1 to 64 of `A-Z a-z 0-9 _ . -`, so it is safe inside a Redis key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounterName(String);

impl CounterName {
    /// Checks the name; the error says what is allowed.
    pub fn parse(name: &str) -> Result<CounterName, String> {
        let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        if (1..=64).contains(&name.len()) && name.chars().all(valid_char) {
            Ok(CounterName(name.to_owned()))
        } else {
            Err(format!(
                "invalid counter name `{name}`: use 1 to 64 letters, digits, `_`, `.` or `-`"
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CounterName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CounterName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl JsonSchema for CounterName {
    fn schema_name() -> Cow<'static, str> {
        "CounterName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Za-z0-9_.-]{1,64}$"
        })
    }
}
