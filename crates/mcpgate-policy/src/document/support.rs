//! Defaults, predicates for `skip_serializing_if`, and the hand-written
//! serialisation of [`Hide`], whose two shapes serde cannot derive cleanly.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Action, AllTools, DefaultAction, Hide, Mode, Policy, Scope};

impl DefaultAction {
    pub(crate) fn is_allow(&self) -> bool {
        *self == DefaultAction::Allow
    }
}

impl Mode {
    pub(crate) fn is_enforce(&self) -> bool {
        *self == Mode::Enforce
    }
}

impl Action {
    pub(crate) fn is_allow(&self) -> bool {
        *self == Action::Allow
    }

    /// The lowercase name used in documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
            Action::RequireApproval => "require_approval",
        }
    }
}

impl Scope {
    pub(crate) fn is_grant(&self) -> bool {
        *self == Scope::Grant
    }

    /// The lowercase name used in documents and Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Grant => "grant",
            Scope::Server => "server",
            Scope::Tenant => "tenant",
        }
    }
}

impl AllTools {
    pub(crate) fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }
}

/// `true`, the default of [`super::MethodTestCall::known`].
pub(crate) fn yes() -> bool {
    true
}

pub(crate) fn is_yes(flag: &bool) -> bool {
    *flag
}

impl Default for Hide {
    fn default() -> Self {
        Hide::Tools(Vec::new())
    }
}

impl Hide {
    pub(crate) fn is_empty(&self) -> bool {
        matches!(self, Hide::Tools(tools) if tools.is_empty())
    }
}

impl Serialize for Hide {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Hide::All => serializer.serialize_str("*"),
            Hide::Tools(tools) => tools.serialize(serializer),
        }
    }
}

impl JsonSchema for Hide {
    fn schema_name() -> Cow<'static, str> {
        "Hide".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`\"*\"` hides every tool; a list hides these tool names or globs.",
            "oneOf": [
                {"const": "*"},
                {"type": "array", "items": {"type": "string", "minLength": 1}}
            ]
        })
    }
}

/// Deserialises through [`crate::parse_value`], so a `Policy` read by serde (from a
/// `jsonb` column, say) is as fully validated as one read by `parse`; the error
/// message lists every problem.
impl<'de> Deserialize<'de> for Policy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        crate::parse::parse_value(&value).map_err(serde::de::Error::custom)
    }
}
