//! Signals read from the input schema's shape and the grammar of the description rather
//! than from a word list of objects: what a property or an action sets, whether any
//! argument carries data, what a query argument reaches, what the prose says the call does.
//! These carry over between servers because they do not depend on a server's vocabulary.

use mcpgate_policy::Category;
use serde_json::Value;

use crate::lexicon::verb_category;
use crate::signals::Signals;
use crate::text::identifier_tokens;

/// Whether a JSON Schema's `type` is `kind`.
pub(crate) fn typed(schema: &Value, kind: &str) -> bool {
    schema.get("type").and_then(Value::as_str) == Some(kind)
}

/// Verbs that, leading an action's name, change what they name (`setFormPassword`).
const SETTING_VERBS: &[&str] = &[
    "set",
    "change",
    "reset",
    "update",
    "rotate",
    "regenerate",
    "replace",
];
/// What an action or a qualified property sets that is a way in.
const SECRET_NOUNS: &[&str] = &["password", "passphrase", "secret"];
/// Name verbs that change an existing object (its secret included).
const UPDATING_VERBS: &[&str] = &[
    "update",
    "set",
    "edit",
    "modify",
    "patch",
    "change",
    "replace",
    "configure",
    "put",
];
/// Last tokens of an argument that only names an existing object.
const IDENTIFIER_ENDINGS: &[&str] = &["id", "ids", "sid", "gid", "uuid", "etag"];
/// Conjugated verbs that can only change state (`links`, `selects`, `labels` also name
/// things or choose among them, so they are left out).
const CHANGING_VERBS: &[&str] = &[
    "updates",
    "creates",
    "deletes",
    "modifies",
    "overwrites",
    "removes",
    "writes",
    "erases",
    "replaces",
];
/// Words after a verb that make it a verb with an object, not a noun (`updates them`,
/// against `updates for a project`).
const OBJECT_STARTS: &[&str] = &[
    "them", "it", "the", "a", "an", "its", "their", "this", "these", "those", "your", "any",
];

/// Every string `enum` value anywhere in the schema, in order.
fn enum_values(value: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(values)) = map.get("enum") {
                out.extend(values.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            map.values().for_each(|v| enum_values(v, out, depth + 1));
        }
        Value::Array(items) => items.iter().for_each(|v| enum_values(v, out, depth + 1)),
        _ => {}
    }
}

/// What a create mints when its description names it: a client's secret, or a link that
/// signs its holder in.
#[rustfmt::skip]
const MINTED_CREDENTIAL_PHRASES: &[&str] = &[
    "client secret", "client secrets", "authenticated link", "authenticated links",
    "magic link", "magic links", "sign in link", "sign in links", "login link", "login links",
    "automatically sign in", "automatically signs in",
];

impl Signals {
    /// A credential the write sets through its schema rather than its name:
    /// a property setting a password (`passwordValue`, `new_password`, `requirePassword`),
    /// an action that sets one (`action: setFormPassword`), or, on an update of an existing
    /// object, a qualified secret property (`signing_secret`, `client_secret`) that replaces
    /// the secret others rely on. A bare `password` is one the caller supplies to get in.
    pub(crate) fn sets_credential(&self) -> Option<String> {
        let properties = self.all_property_names();
        let password = properties.iter().find(|p| {
            let tokens: Vec<&str> = p.split('_').collect();
            tokens.contains(&"password")
                && tokens
                    .iter()
                    .any(|t| ["value", "new", "require", "set"].contains(t))
        });
        if let Some(property) = password {
            return Some(property.clone());
        }
        let mut values = Vec::new();
        for argument in &self.arguments {
            enum_values(argument.schema(), &mut values, 0);
        }
        let action = values.into_iter().find(|value| {
            let tokens = identifier_tokens(value);
            tokens
                .first()
                .is_some_and(|t| SETTING_VERBS.contains(&t.as_str()))
                && tokens.iter().any(|t| SECRET_NOUNS.contains(&t.as_str()))
        });
        if action.is_some() {
            return action;
        }
        let updates = self
            .name_verb()
            .is_some_and(|(_, verb)| UPDATING_VERBS.contains(&verb));
        self.qualified_secret_property().filter(|_| updates)
    }

    /// A create whose description speaks of the client secret it makes (an OAuth client or
    /// application), or of a link that signs someone in (a portal session's "authenticated
    /// links", a magic or sign-in link; round 10): a new credential exists once it returns,
    /// redacted in the reply or not.
    pub(crate) fn mints_credential(&self) -> Option<&'static str> {
        let creates = self
            .name_verb()
            .is_some_and(|(_, verb)| ["create", "add", "register", "new"].contains(&verb));
        creates
            .then(|| self.description.first_phrase(MINTED_CREDENTIAL_PHRASES))
            .flatten()
    }

    /// A property holding a named secret (`signing_secret`, `client_secret`,
    /// `form_password`): a qualifier, then the secret noun last.
    pub(crate) fn qualified_secret_property(&self) -> Option<String> {
        self.all_property_names().into_iter().find(|p| {
            let tokens: Vec<&str> = p.split('_').collect();
            tokens.len() > 1
                && tokens
                    .last()
                    .is_some_and(|last| SECRET_NOUNS.contains(last))
                && !["is", "has", "approval"].contains(&tokens[0])
        })
    }

    /// The top-level argument names and every nested property name, as identifier tokens
    /// joined by `_` (`signingSecret` → `signing_secret`).
    fn all_property_names(&self) -> Vec<String> {
        self.arguments
            .iter()
            .map(|a| identifier_tokens(&a.name).join("_"))
            .chain(self.nested_property_names())
            .collect()
    }

    /// A free-form GraphQL argument on a tool whose first sentence speaks of mutations and
    /// does not say read-only: any create, update or delete the API offers → execute.
    pub(crate) fn graphql_mutation(&self) -> Option<&crate::signals::Argument> {
        let lead = &self.lead;
        let mutations = lead.has_phrase("graphql")
            && lead.first_phrase(&["mutation", "mutations"]).is_some()
            && !lead.has_phrase("read only")
            && self.annotations.read_only != Some(true);
        mutations.then(|| self.free_query_argument()).flatten()
    }

    /// A free-form GraphQL query argument on a read: any object type of the API can be read.
    pub(crate) fn graphql_query(&self) -> Option<&crate::signals::Argument> {
        self.lead
            .has_phrase("graphql")
            .then(|| self.free_query_argument())
            .flatten()
    }

    fn free_query_argument(&self) -> Option<&crate::signals::Argument> {
        self.arguments.iter().find(|a| {
            ["query", "mutation", "document", "operation"].contains(&a.name.as_str())
                && a.schema().get("enum").is_none()
        })
    }

    /// Whether every argument only names an existing object (`uploadId`, `etag`, `itemId`):
    /// nothing the caller passes is data that could leave.
    pub(crate) fn carries_no_data(&self) -> bool {
        !self.arguments.is_empty()
            && self.arguments.iter().all(|a| {
                identifier_tokens(&a.name)
                    .last()
                    .is_some_and(|last| IDENTIFIER_ENDINGS.contains(&last.as_str()))
            })
    }

    /// A verb in the description, conjugated and followed by its object, that changes or
    /// deletes something (`... and updates them on the application`), with its category.
    /// `updates for a project` names updates; `updates them` makes some.
    pub(crate) fn description_changes(&self) -> Option<(String, Category)> {
        let words = self.description.as_slice();
        words.windows(2).find_map(|pair| {
            let verb = pair[0].as_str();
            let category = verb_category(verb)?;
            (CHANGING_VERBS.contains(&verb) && OBJECT_STARTS.contains(&pair[1].as_str()))
                .then(|| (verb.to_owned(), category))
        })
    }
}
