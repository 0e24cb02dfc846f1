//! Round 7: a router's operation choice. A `command` argument that names one of the tool's
//! own operations (a sub-command from a listed or discoverable set, its arguments carried
//! apart) is not code the caller writes: the tool is judged by what its service does.

use serde_json::Value;

use crate::schema::typed;
use crate::signals::{Argument, Signals};
use crate::text::{identifier_tokens, Words};

/// Argument names that, by name alone, would carry a command for the service to run.
const COMMAND_NAMES: &[&str] = &["command", "commands", "cmd", "subcommand"];
/// Sibling arguments that carry a sub-command's own arguments (`parameters: {...}`).
const PARAMETER_OBJECTS: &[&str] = &["parameters", "params", "arguments", "args"];
/// Sibling switches that list the sub-commands instead of running one (`learn: true`).
const DISCOVERY_SWITCHES: &[&str] = &["learn", "list_commands", "help"];
/// A command argument's description naming a set of commands it picks from.
const LISTED_SET_PHRASES: &[&str] = &[
    "from the available commands",
    "one of the available commands",
    "name of the command",
    "name of the sub command",
    "name of the subcommand",
    "name of the operation",
];
/// Words in a command argument's description that make it a command line for a shell,
/// whatever its siblings: the host's, a container's, a CLI's.
const COMMAND_LINE_WORDS: &[&str] = &[
    "shell",
    "host",
    "sudo",
    "bash",
    "terminal",
    "container",
    "cli",
    "line",
    "script",
];

fn description(schema: &Value) -> Option<Words> {
    schema
        .get("description")
        .and_then(Value::as_str)
        .map(Words::new)
}

impl Signals {
    /// Whether `argument`, named as a command, picks one of the tool's own operations: a
    /// string whose description says it names one from a set, or beside a `parameters` object that carries the operation's arguments or
    /// a `learn` switch that lists the operations. A description speaking of a shell, the
    /// host, a container or a command line keeps it code.
    pub(crate) fn command_is_operation_choice(&self, argument: &Argument) -> bool {
        let joined = identifier_tokens(&argument.name).join("");
        let schema = argument.schema();
        if !COMMAND_NAMES.contains(&joined.as_str()) || !typed(schema, "string") {
            return false;
        }
        let words = description(schema);
        let command_line = words.as_ref().is_some_and(|w| {
            w.as_slice()
                .iter()
                .any(|word| COMMAND_LINE_WORDS.contains(&word.as_str()))
        });
        if command_line {
            return false;
        }
        // An `enum` alone is not enough: `kubectl_rollout`'s `subCommand` (history, pause,
        // restart, undo, ...) is a choice among kubectl's verbs, and without it the tool read as
        // destructive critical (measured, round 7).
        let listed = words
            .as_ref()
            .is_some_and(|w| LISTED_SET_PHRASES.iter().any(|p| w.has_phrase(p)));
        let sibling = |names: &[&str], kind: &str| {
            self.arguments.iter().any(|other| {
                other.name != argument.name
                    && names.contains(&identifier_tokens(&other.name).join("_").as_str())
                    && typed(other.schema(), kind)
            })
        };
        listed || sibling(PARAMETER_OBJECTS, "object") || sibling(DISCOVERY_SWITCHES, "boolean")
    }

    /// The one required argument of a tool that runs a command, when it is the command line
    /// itself as a list of strings (`run_gcloud_command` with `args: [...]`): any of the
    /// CLI's commands, deletes and grants included, not one of the tool's own operations
    /// (round 10, like round 7's routers that take any request).
    pub(crate) fn command_line_array(&self) -> Option<&Argument> {
        if !self.name_has(&["command", "cmd", "cli"]) {
            return None;
        }
        let argument = self.arguments.iter().find(|a| {
            ["args", "argv"].contains(&identifier_tokens(&a.name).join("_").as_str())
                && typed(a.schema(), "array")
                && a.schema()
                    .get("items")
                    .is_some_and(|items| typed(items, "string"))
        })?;
        let only_required = self.required(&argument.name)
            && self
                .arguments
                .iter()
                .all(|other| other.name == argument.name || !self.required(&other.name));
        only_required.then_some(argument)
    }
}
