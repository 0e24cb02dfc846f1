//! Round 5: what a call does that its verb does not say, read from the prose around the
//! verb and from the schema's shape: what a read's response carries, what a caller-chosen
//! path or artifact runs, which actions a multi-action tool lists, whom a write reaches
//! and whether it replaces a whole configuration.

use mcpgate_policy::Category;
use serde_json::Value;

use crate::lexicon::verb_category;
use crate::signals::{Argument, Signals};
use crate::text::{identifier_tokens, Words};

/// Phrases naming a secret a response carries: session cookies, a stored login, a key.
#[rustfmt::skip]
const RESPONSE_SECRET_PHRASES: &[&str] = &[
    "set cookie", "cookie", "cookies", "authentication configuration",
    "authentication config", "auth config", "login credentials", "stored credentials",
    "api keys", "api key", "signing secret", "signing key", "connection string",
    "connection strings", "password", "passwords", "private key", "private keys",
    "authorization header", "authorization headers", "session token", "session tokens",
    "refresh token", "refresh tokens", "bearer token",
];
/// Nouns a secret phrase can qualify without the secret being returned (`API key usage`,
/// `cookie consent`).
#[rustfmt::skip]
const QUALIFIED_NOUNS: &[&str] = &[
    "usage", "count", "counts", "names", "name", "ids", "id", "metadata", "status", "consent",
    "banner", "policy", "policies", "expiry", "expiration", "limits", "limit", "scopes",
    "strength", "requirements", "rules", "reset", "field", "fields", "length", "complexity",
];
/// What clearing every one of loses nothing anyone relies on (`Clear all notifications`).
#[rustfmt::skip]
const CHEAP_OBJECTS: &[&str] = &[
    "notifications", "filters", "highlights", "selections", "breakpoints", "console", "logs",
    "cookies", "caches", "drafts", "tags", "labels",
];
/// Words after which a phrase names what the response holds.
#[rustfmt::skip]
const RETURN_MARKERS: &[&str] = &[
    "including", "includes", "include", "with", "returns", "return", "returned", "contains",
    "containing",
];
/// Phrases saying secret values are kept out of what is returned.
#[rustfmt::skip]
const MASKED_PHRASES: &[&str] = &[
    "masked", "redacted", "values hidden", "values are hidden", "without values", "obfuscated",
    // "reported as blocked rather than shown" (round 11).
    "rather than shown",
];
/// Nouns of a caller-chosen artifact that the service installs and runs.
const RUNNABLE_ARTIFACTS: &[&str] = &[
    "app",
    "apk",
    "ipa",
    "binary",
    "executable",
    "playbook",
    "suite",
    "script",
    "notebook",
];
/// Last tokens of an argument that names a file rather than carrying data.
const PATH_ENDINGS: &[&str] = &["path", "file"];
/// Argument names that pick one of a multi-action tool's actions.
const ACTION_ARGUMENTS: &[&str] = &["action", "operation", "op", "mode"];
/// Verbs whose object is gone afterwards (the worst action of a multi-action tool).
/// (`drop` is left out: "drag and drop" removes nothing.)
const REMOVALS: &[&str] = &["delete", "remove", "destroy", "purge"];
/// Name verbs that examine an artifact without running it (`playbook_syntax_check`).
const EXAMINING_VERBS: &[&str] = &[
    "check", "lint", "validate", "verify", "parse", "inspect", "describe", "explain", "diff",
    "scan", "analyze", "analyse", "get", "list", "read", "show", "view",
];
/// Objects of a help desk whose requester, outside the tenant, is written to.
const REQUESTER_THREADS: &[&str] = &[
    "ticket",
    "tickets",
    "conversation",
    "conversations",
    "case",
    "cases",
];
/// Words of an argument's description that make a `code` program code, not an identifier.
#[rustfmt::skip]
const PROGRAM_WORDS: &[&str] = &[
    "source", "script", "program", "javascript", "python", "function", "execute", "executed",
    "run", "snippet", "language", "typescript",
];

/// The quoted words of a text (`'list'`, `"delete"`): the choices prose offers.
fn quoted(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quote in ['\'', '"'] {
        let parts: Vec<&str> = text.split(quote).collect();
        for inside in parts.iter().skip(1).step_by(2) {
            let word = inside.trim();
            if !word.is_empty() && word.len() <= 30 && !word.contains(' ') {
                out.push(word.to_lowercase());
            }
        }
    }
    out
}

/// Whether an argument's description says it names a template rather than carrying one
/// ("System template slug only: 'test_case_steps' or 'test_case_text'"): a choice among fixed
/// names, like an `enum`, is no spec. (Quoted examples alone are not enough: a manifest's
/// description quotes `'Deployment'` too.)
pub(crate) fn names_a_choice(schema: &Value) -> bool {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(Words::new)
        .is_some_and(|words| {
            words
                .first_phrase(&[
                    "slug",
                    "template name",
                    "name of the template",
                    "id of the template",
                ])
                .is_some()
        })
}

impl Signals {
    /// A secret the description of a read says its response carries (`response headers
    /// (including 'Set-Cookie')`, `an existing authentication configuration`), with whether
    /// the description says the values are masked.
    ///
    /// The phrase must be what is returned, by the grammar: the object of the first
    /// sentence's verb ("Retrieve an existing authentication configuration"), or named after
    /// `including`, `with`, `returns` or `contains` ("response headers (including
    /// 'Set-Cookie')"). "Requires an API key" names what the call needs, not what it returns.
    pub(crate) fn response_secret(&self) -> Option<(&'static str, bool)> {
        let words = self.description.as_slice();
        let lead_len = self.lead.as_slice().len();
        let phrase = RESPONSE_SECRET_PHRASES.iter().copied().find(|phrase| {
            let parts: Vec<&str> = phrase.split(' ').collect();
            (0..words.len()).any(|start| {
                let matches = words.len() >= start + parts.len()
                    && parts
                        .iter()
                        .enumerate()
                        .all(|(i, p)| words[start + i] == *p);
                let object_of_lead = (1..=4).contains(&start) && start < lead_len;
                let before = &words[start.saturating_sub(3)..start];
                // "including whether a password is set" returns a flag, not the password.
                let named_as_returned = before.iter().any(|w| RETURN_MARKERS.contains(&w.as_str()))
                    && !before
                        .iter()
                        .any(|w| ["whether", "if", "no", "without"].contains(&w.as_str()));
                // "Returns certificate chain, public key, and private key": the last item of
                // a list whose head is a return marker (round 11).
                let listed = start >= 1 && ["and", "or"].contains(&words[start - 1].as_str()) && {
                    let head = &words[start.saturating_sub(8)..start - 1];
                    head.iter().any(|w| RETURN_MARKERS.contains(&w.as_str()))
                        && !head.iter().any(|w| {
                            ["whether", "if", "no", "not", "without"].contains(&w.as_str())
                        })
                };
                let named_as_returned = named_as_returned || listed;
                // "API key usage", "cookie consent": the phrase qualifies another noun.
                let qualifies = words
                    .get(start + parts.len())
                    .is_some_and(|next| QUALIFIED_NOUNS.contains(&next.as_str()));
                matches && (object_of_lead || named_as_returned) && !qualifies
            })
        })?;
        let masked = self.description.first_phrase(MASKED_PHRASES).is_some();
        Some((phrase, masked))
    }

    /// A field the description names as returned whose name ends in a secret
    /// (`endpointSecretKey`, `webhook_secret`, `signingKey`): "The endpointSecretKey is
    /// returned" or "returns … client_secret". Only a written identifier counts (round 10);
    /// prose goes through [`Signals::response_secret`].
    pub(crate) fn returned_secret_field(&self) -> Option<String> {
        let raw: Vec<&str> = self
            .raw_description
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        let lower: Vec<String> = raw.iter().map(|w| w.to_lowercase()).collect();
        raw.iter().enumerate().find_map(|(index, word)| {
            let tokens = identifier_tokens(word);
            let n = tokens.len();
            let ends_in_secret = n >= 2
                && (tokens[n - 1] == "secret"
                    || (tokens[n - 1] == "key"
                        && ["secret", "signing", "private"].contains(&tokens[n - 2].as_str())));
            if !ends_in_secret {
                return None;
            }
            let after = &lower[index + 1..lower.len().min(index + 4)];
            let before = &lower[index.saturating_sub(3)..index];
            let negated = |words: &[String]| {
                words
                    .iter()
                    .any(|w| ["not", "never", "no", "without", "whether"].contains(&w.as_str()))
            };
            let returned_after = after.iter().any(|w| w == "returned") && !negated(after);
            let returned_before = before
                .iter()
                .any(|w| ["returns", "returned", "including", "includes"].contains(&w.as_str()))
                && !negated(before);
            (returned_after || returned_before).then(|| (*word).to_owned())
        })
    }

    /// A top-level argument naming an artifact the caller chooses and the service installs
    /// and runs (`appPath`, `playbook_path`, `testSuitePath`), unless the name's verb only
    /// examines it (`playbook_syntax_check`).
    pub(crate) fn caller_artifact_path(&self) -> Option<&Argument> {
        let examines = self
            .name_verb()
            .is_some_and(|(_, verb)| EXAMINING_VERBS.contains(&verb));
        if examines {
            return None;
        }
        self.arguments.iter().find(|a| {
            let tokens = identifier_tokens(&a.name);
            tokens.len() > 1
                && tokens
                    .last()
                    .is_some_and(|last| PATH_ENDINGS.contains(&last.as_str()))
                && tokens
                    .iter()
                    .any(|t| RUNNABLE_ARTIFACTS.contains(&t.as_str()))
        })
    }

    /// A command nested in the spec of what the tool creates or changes (`params.buildCommand`,
    /// `params.startCommand`): the service runs it.
    pub(crate) fn nested_command(&self) -> Option<String> {
        self.nested_only_property_names().into_iter().find(|p| {
            let tokens: Vec<&str> = p.split('_').collect();
            tokens.len() > 1 && tokens.last() == Some(&"command")
        })
    }

    /// Property names below the top level (the spec inside `params`).
    fn nested_only_property_names(&self) -> Vec<String> {
        let top: Vec<String> = self
            .arguments
            .iter()
            .map(|a| identifier_tokens(&a.name).join("_"))
            .collect();
        self.nested_property_names()
            .into_iter()
            .filter(|p| !top.contains(p))
            .collect()
    }

    /// The choices an action argument offers: its `enum`, or, without one, the quoted words
    /// of the line of the description that names it (`action (str): The action to perform:
    /// "create", "delete", or "update"`).
    pub(crate) fn offered_actions(&self) -> Vec<(&Argument, Vec<String>)> {
        self.arguments
            .iter()
            .filter(|a| ACTION_ARGUMENTS.contains(&a.name.to_lowercase().as_str()))
            .map(|argument| {
                let listed: Vec<String> = argument
                    .schema()
                    .get("enum")
                    .and_then(Value::as_array)
                    .map(|values| {
                        values
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_lowercase)
                            .collect()
                    })
                    .unwrap_or_default();
                if !listed.is_empty() {
                    return (argument, listed);
                }
                let own = argument
                    .schema()
                    .get("description")
                    .and_then(Value::as_str)
                    .map(quoted)
                    .unwrap_or_default();
                let described = self
                    .raw_description
                    .lines()
                    .filter(|line| {
                        Words::new(line).as_slice().iter().any(|w| {
                            *w == argument.name.to_lowercase()
                                || *w == format!("{}s", argument.name.to_lowercase())
                        })
                    })
                    .flat_map(quoted);
                (argument, own.into_iter().chain(described).collect())
            })
            .collect()
    }

    /// A multi-action tool whose actions include a removal beside changes: an action
    /// argument offering `delete` and `create`/`update`, or a first sentence listing the
    /// verbs ("create, delete, or update"). The rubric labels it by its worst action.
    pub(crate) fn removal_among_actions(&self) -> Option<String> {
        // Deleting a silence lifts it: alerting comes back, nothing is lost.
        if crate::risk::suppresses_alerting(self).is_some() {
            return None;
        }
        let is_removal = |v: &str| REMOVALS.contains(&v);
        let changes = |v: &str| verb_category(v) == Some(Category::Write);
        // `set_tags` with a mode of add, remove or replace: a tag taken off an item is a label
        // detached, as "add or remove labels from an issue" is (round 13).
        let tags_only = !self.name_objects().is_empty()
            && self
                .name_objects()
                .iter()
                .all(|t| ["tag", "tags", "label", "labels"].contains(&t.as_str()));
        for (argument, values) in self.offered_actions().into_iter().filter(|_| !tags_only) {
            let first = |v: &String| identifier_tokens(v).first().cloned().unwrap_or_default();
            let removal = values.iter().map(first).find(|v| is_removal(v));
            let change = values.iter().map(first).any(|v| changes(&v));
            if let (Some(removal), true) = (removal, change) {
                return Some(format!("{} offers `{removal}`", argument.name));
            }
        }
        // A run of two or more verbs joined only by `and`/`or` (commas are gone).
        let lead = self.lead.as_slice();
        let mut run: Vec<&str> = Vec::new();
        for word in lead.iter().map(String::as_str).chain(std::iter::once(".")) {
            if ["and", "or"].contains(&word) && !run.is_empty() {
                continue;
            }
            if verb_category(word).is_some() && word != "list" {
                run.push(word);
                continue;
            }
            // "Add or remove labels from an issue" takes labels off the issue: a detach.
            // "Stop and remove a container, then run a new one" is one sequence of steps, not
            // a choice among actions: what it ends with decides.
            let detaches = lead.iter().any(|w| w == "from") || tags_only;
            let sequence = lead.iter().any(|w| w == "then");
            let removal = run
                .iter()
                .find(|v| is_removal(v))
                .filter(|_| !detaches && !sequence);
            if let (true, Some(removal)) = (run.iter().any(|v| changes(v)), removal) {
                return Some(format!("\"{}\" lists `{removal}`", run.join(", ")));
            }
            run.clear();
        }
        None
    }

    /// A boolean `recursive` argument on a deletion: everything beneath goes too.
    pub(crate) fn recursive_argument(&self) -> Option<&Argument> {
        self.arguments
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case("recursive") && a.typed("boolean"))
    }

    /// A write that reaches people outside the tenant through the service: a reply or a
    /// public comment on a ticket or conversation (emailed to its requester), a shared or
    /// public link open to anyone who has it. A reply to a document's comment stays inside.
    pub(crate) fn reaches_outside_party(&self) -> Option<String> {
        let objects = self.name_objects();
        let has = |words: &[&str]| objects.iter().any(|t| words.contains(&t.as_str()));
        if has(&["reply", "replies"]) && has(REQUESTER_THREADS) {
            return Some("reply".to_owned());
        }
        let public = self
            .arguments
            .iter()
            .find(|a| a.name == "public" && a.typed("boolean"));
        let on_thread = has(REQUESTER_THREADS) && has(&["comment", "comments", "note", "notes"]);
        if let Some(argument) = public.filter(|_| on_thread) {
            return Some(argument.name.clone());
        }
        // A public link is a shared one by another name (round 11: `create_public_link`).
        (has(&["share", "shared", "public"]) && has(&["link", "links"]))
            .then(|| "shared link".to_owned())
    }

    /// A write that replaces a whole configuration: a configuration document passed whole
    /// (`config_xml`, `config_json`), or the list of a service's environment variables
    /// (an array of key/value objects), which replaces the environment.
    pub(crate) fn replaces_whole_configuration(&self) -> Option<String> {
        let document = self.arguments.iter().find(|a| {
            let tokens = identifier_tokens(&a.name);
            tokens
                .iter()
                .any(|t| ["config", "configuration"].contains(&t.as_str()))
                && tokens
                    .last()
                    .is_some_and(|t| ["xml", "json", "yaml", "toml"].contains(&t.as_str()))
        });
        if let Some(argument) = document {
            return Some(argument.name.clone());
        }
        fn env_list(value: &Value, depth: usize) -> Option<String> {
            if depth > 6 {
                return None;
            }
            let properties = value.get("properties").and_then(Value::as_object)?;
            properties.iter().find_map(|(name, schema)| {
                let joined = identifier_tokens(name).join("_");
                let is_env =
                    ["env_vars", "environment_variables", "env"].contains(&joined.as_str());
                let item_keys = schema
                    .get("items")
                    .and_then(|i| i.get("properties"))
                    .and_then(Value::as_object)
                    .is_some_and(|p| p.contains_key("key") && p.contains_key("value"));
                if is_env && item_keys {
                    return Some(name.clone());
                }
                env_list(schema, depth + 1)
            })
        }
        self.arguments.iter().find_map(|a| {
            let wrapper = serde_json::json!({"properties": {a.name.clone(): a.schema().clone()}});
            env_list(&wrapper, 0)
        })
    }

    /// Whether an argument named `code` is an object's code (an item's SKU beside its
    /// `name`) rather than program code: its description, if any, says nothing of source,
    /// scripts or languages, and the tool also takes the object's `name`.
    pub(crate) fn code_is_identifier(&self, argument: &Argument) -> bool {
        if identifier_tokens(&argument.name) != ["code"] {
            return false;
        }
        let programmatic = argument
            .schema()
            .get("description")
            .and_then(Value::as_str)
            .map(Words::new)
            .is_some_and(|words| {
                words
                    .as_slice()
                    .iter()
                    .any(|w| PROGRAM_WORDS.contains(&w.as_str()))
            });
        let named = self
            .arguments
            .iter()
            .any(|a| ["name", "title"].contains(&a.name.as_str()));
        named && !programmatic
    }

    /// An argument choosing the type of object the call acts on (`type: project | section |
    /// task`), with the first of `values` it offers: a deletion of a caller-chosen type
    /// reaches the biggest one it offers.
    pub(crate) fn type_choice_offering(&self, values: &[&str]) -> Option<(String, String)> {
        self.arguments.iter().find_map(|argument| {
            let tokens = identifier_tokens(&argument.name);
            let names_type = tokens
                .last()
                .is_some_and(|t| ["type", "kind"].contains(&t.as_str()));
            let offered = argument.schema().get("enum")?.as_array()?;
            let value = offered
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .find(|v| values.contains(&v.as_str()))?;
            names_type.then(|| (argument.name.clone(), value))
        })
    }

    /// A first sentence whose verb takes "all" of something ("Cleanup all managed resources",
    /// "Delete all records"): the deletion is of every object at once. "Removes all documents
    /// that match the filter" deletes a selection, not everything.
    pub(crate) fn removes_everything(&self) -> Option<String> {
        let lead = self.lead.as_slice();
        let verb = lead.first()?;
        let selects = lead
            .iter()
            .any(|w| ["that", "which", "matching", "match", "where"].contains(&w.as_str()))
            || self
                .arguments
                .iter()
                .any(|a| ["filter", "query", "where", "selector"].contains(&a.name.as_str()));
        // "Clear all notifications" loses nothing anyone relies on.
        let cheap = lead.iter().skip(2).any(|w| {
            crate::lexicon::RECREATABLE_TARGETS.contains(&w.as_str())
                || CHEAP_OBJECTS.contains(&w.as_str())
        });
        (lead.get(1).map(String::as_str) == Some("all") && lead.len() > 2 && !selects && !cheap)
            .then(|| format!("{verb} all"))
    }
}
