//! Round 6: signals read from the schema's structure and the prose's warnings rather than
//! from a server's vocabulary: a generic gateway named by service and operation, a secret
//! an edit sets through a plain field of the object, a transformation of a stored object,
//! and the consequences a description states as warnings.

use serde_json::Value;

use crate::lexicon::CASCADE_PHRASES;
use crate::signals::{Argument, Signals};
use crate::text::identifier_tokens;

/// Argument names that pick which of a service's operations runs (`service`, `method`,
/// `operation`), free-form, with no list of choices.
const OPERATION_NAMES: &[&str] = &["service", "method", "operation", "action", "endpoint"];
/// Argument names that pick which service or domain an operation belongs to.
const SERVICE_NAMES: &[&str] = &["service", "domain", "api", "resource"];
/// Fields of an object that hold a way in, set as they are (`password`, `totp`, `ssh_keys`).
const PLAIN_SECRET_FIELDS: &[&[&str]] = &[
    &["password"],
    &["passwd"],
    &["passphrase"],
    &["totp"],
    &["ssh", "keys"],
    &["ssh", "key"],
    &["sshkeys"],
    &["private", "key"],
];
/// Name verbs that change an existing object rather than make a new one or log in.
/// Protecting an object with a password, or taking that protection off, edits its way in
/// (`protect_document` with `password`, round 16).
const EDITING_VERBS: &[&str] = &[
    "edit",
    "update",
    "modify",
    "configure",
    "change",
    "set",
    "protect",
    "unprotect",
];
/// An object's own earlier states, which a deletion taking `all its` of them takes with the
/// object and nothing else.
const OWN_STATES: &[&str] = &["versions", "revisions", "drafts"];
/// Name verbs that rework a stored object into a new version of it.
const REWORKING_VERBS: &[&str] = &["transform", "translate"];
/// Consequences a description states as a warning: what the call cannot take back or
/// whom it disrupts. ("Data modification warning" and "shows a warning" warn of nothing, and
/// "avoids the data loss" promises the opposite, so data loss counts only when caused.)
#[rustfmt::skip]
const WARNING_PHRASES: &[&str] = &[
    "irreversible", "cannot be undone", "can not be undone", "not reversible",
    "cause data loss", "causes data loss", "disrupts", "outage", "restart the whole",
    "permanently delete", "permanently deletes", "permanently removes",
    // Round 12: a list "replaced wholesale" loses whatever the caller does not send back; a
    // change that will "cut this connection" leaves nobody able to reach the device to undo it.
    "wholesale", "cut this connection", "cut the connection", "cuts the connection",
];

/// Whether an argument's schema takes any string, with no list of choices.
fn free_string(argument: &Argument) -> bool {
    let schema = argument.schema();
    let typed = |value: &Value| value.get("type").and_then(Value::as_str) == Some("string");
    let string = typed(schema)
        || schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().any(typed));
    string && schema.get("enum").is_none()
}

/// Whether an object schema takes any properties the caller writes: no declared
/// properties (or an empty list) and extra ones allowed.
fn free_object(schema: &Value) -> bool {
    let object = schema.get("type").and_then(Value::as_str) == Some("object");
    let undeclared = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_none_or(|p| p.is_empty());
    let open = schema.get("additionalProperties") != Some(&Value::Bool(false));
    (object && undeclared && open)
        || schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().any(free_object))
}

impl Signals {
    /// A gateway to a whole API named by service and operation rather than HTTP method
    /// (`service: 'payments', method: 'create', request: {...}`; `domain, service, data`):
    /// a free-form service, a free-form operation and a free-form payload reach every
    /// operation the API has, deletes and payments included.
    pub(crate) fn service_gateway(&self) -> Option<&Argument> {
        let last = |argument: &Argument| identifier_tokens(&argument.name).last().cloned();
        let service = self.arguments.iter().find(|a| {
            free_string(a) && last(a).is_some_and(|t| SERVICE_NAMES.contains(&t.as_str()))
        })?;
        let operation = self.arguments.iter().find(|a| {
            a.name != service.name
                && free_string(a)
                && last(a).is_some_and(|t| OPERATION_NAMES.contains(&t.as_str()))
        })?;
        let payload = self.arguments.iter().any(|a| free_object(a.schema()));
        (payload && self.required(&service.name) && self.required(&operation.name))
            .then_some(operation)
    }

    /// A call of any server function by name (`method: "frappe.client.get_list"`, `args`): a
    /// free-string `method` naming the function and free keyword arguments reach every
    /// function the server exposes over its API, its generic insert and delete included, with
    /// the server's credential. An HTTP method beside it (`http_method`) is how it is sent, not
    /// which function (round 12).
    pub(crate) fn server_function_call(&self) -> Option<&Argument> {
        let method = self.arguments.iter().find(|a| {
            let tokens = identifier_tokens(&a.name);
            free_string(a)
                && tokens.last().is_some_and(|t| t == "method")
                && tokens.first().is_none_or(|t| t != "http")
                && self.required(&a.name)
        })?;
        let arguments = self.arguments.iter().any(|a| {
            ["args", "kwargs", "params", "arguments", "parameters"].contains(&a.name.as_str())
                && (free_string(a) || free_object(a.schema()))
        });
        arguments.then_some(method)
    }

    /// A plain secret field (`password`, `totp`, `ssh_keys`) an edit of an existing object
    /// sets, at the top level or inside the object's parts (`login.password`): the edit
    /// replaces a way in. A create stores a new object's fields, and a bare `password` on a
    /// login is one the caller supplies to get in, so only an editing name verb counts.
    pub(crate) fn edited_secret_field(&self) -> Option<String> {
        let edits = self
            .name_verb()
            .is_some_and(|(_, verb)| EDITING_VERBS.contains(&verb));
        if !edits {
            return None;
        }
        let mut names: Vec<String> = self
            .arguments
            .iter()
            .map(|a| identifier_tokens(&a.name).join("_"))
            .collect();
        names.extend(self.nested_property_names());
        names
            .into_iter()
            .find(|name| {
                let tokens: Vec<&str> = name.split('_').collect();
                PLAIN_SECRET_FIELDS.contains(&tokens.as_slice())
            })
            .or_else(|| {
                self.arguments
                    .iter()
                    .find_map(|a| concealed_field(a.schema(), 0))
            })
    }

    /// A transformation or translation (`transform_image`, `transform-asset`,
    /// `translate_document`) of an object an argument names by its identifier (`documentId`,
    /// `publicId`): the service reworks what it stores, so the result lands in or beside that
    /// object, a write however the description's verb (`generate`) reads. Text generated from
    /// a prompt alone names no stored object and stays a read.
    pub(crate) fn reworks_stored_object(&self) -> Option<(&'static str, &Argument)> {
        let verb = REWORKING_VERBS
            .iter()
            .copied()
            .find(|verb| self.name_tokens.first().is_some_and(|t| t == verb))?;
        let target = self.arguments.iter().find(|a| {
            identifier_tokens(&a.name)
                .last()
                .is_some_and(|t| ["id", "ids"].contains(&t.as_str()))
        })?;
        Some((verb, target))
    }

    /// The first cascade phrase (`and all`, `all its`, `entire`, ...) the description uses for
    /// something beyond the deleted object itself. `A document and all its drafts` or `the
    /// attachment and ALL its versions` takes the object's own earlier states, nothing else:
    /// no cascade. `A folder and all assets within it` still is one.
    pub(crate) fn cascade_phrase(&self) -> Option<&'static str> {
        let words = self.description.as_slice();
        CASCADE_PHRASES.iter().copied().find(|phrase| {
            let tokens: Vec<&str> = phrase.split(' ').collect();
            words
                .windows(tokens.len())
                .enumerate()
                .filter(|(_, window)| window.iter().map(String::as_str).eq(tokens.iter().copied()))
                .any(|(start, _)| {
                    let noun = words[start + tokens.len()..]
                        .iter()
                        .map(String::as_str)
                        .find(|w| !["its", "of", "the", "their"].contains(w));
                    // "Everything else on the item is untouched" contrasts; it takes nothing.
                    let contrast = *phrase == "everything"
                        && words.get(start + 1).is_some_and(|w| w == "else");
                    !noun.is_some_and(|n| OWN_STATES.contains(&n)) && !contrast
                })
        })
    }

    /// A consequence the description states as a warning (`IRREVERSIBLE`, `WARNING: May
    /// cause data loss`, `Temporarily disrupts all ...`), the first found.
    pub(crate) fn prose_warning(&self) -> Option<&'static str> {
        self.description.first_phrase(WARNING_PHRASES)
    }
}

/// Field kinds that hold a secret when an edit sets a field's `type` and `value`.
const CONCEALED_KINDS: &[&str] = &["concealed", "password", "secret"];

/// A field an edit can set to a secret kind (round 10): an object schema with a `value` and a
/// `type` whose enum offers `concealed` (a vault item's upserted fields), named by that kind.
fn concealed_field(schema: &Value, depth: usize) -> Option<String> {
    if depth > 4 {
        return None;
    }
    if let Some(properties) = schema.get("properties").and_then(|p| p.as_object()) {
        let kind = properties
            .get("type")
            .and_then(|t| t.get("enum"))
            .and_then(|e| e.as_array())
            .and_then(|values| {
                values
                    .iter()
                    .filter_map(|v| v.as_str())
                    .find(|v| CONCEALED_KINDS.contains(v))
            });
        if let (Some(kind), true) = (kind, properties.contains_key("value")) {
            return Some(format!("{kind} field"));
        }
        if let Some(found) = properties
            .values()
            .find_map(|p| concealed_field(p, depth + 1))
        {
            return Some(found);
        }
    }
    schema
        .get("items")
        .and_then(|items| concealed_field(items, depth + 1))
}
