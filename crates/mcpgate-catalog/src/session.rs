//! Round 5: what stays with the caller. A download that saves only when asked, a recording of
//! the caller's own page, a choice of what later calls act on, feedback to the tool's makers
//! and a session started on a URL change nothing of the tenant's that others rely on; these
//! readings keep such tools from being called writes or runs.

use serde_json::Value;

use crate::signals::{Argument, Signals};
use crate::text::Words;

/// Phrases saying a local save happens only when the caller asks; otherwise the content is
/// returned.
#[rustfmt::skip]
const OPTIONAL_SAVE_PHRASES: &[&str] = &[
    "if not provided", "if omitted", "optionally saves", "optionally save", "if provided",
    "when provided",
];
/// What recording the caller's own page or session makes (`performance_start_trace`,
/// `screencast_stop`): an observation, like a screenshot.
const RECORDINGS: &[&str] = &[
    "trace",
    "tracing",
    "screencast",
    "recording",
    "profile",
    "profiling",
    "har",
];
/// Verbs that begin or end a recording.
const RECORDING_VERBS: &[&str] = &["start", "stop", "begin", "end"];
/// Phrases saying a choice only sets what later calls act on.
#[rustfmt::skip]
const LATER_CALLS_PHRASES: &[&str] = &[
    "future tool calls", "subsequent tool calls", "later tool calls", "future calls",
    "subsequent calls", "later calls",
];
/// Verbs that send feedback (`Send structured feedback`, `Report a bug`).
const FEEDBACK_VERBS: &[&str] = &[
    "send", "sends", "submit", "submits", "report", "reports", "share", "give", "leave", "provide",
    "rate",
];

impl Signals {
    /// Whether a local-save argument saves only when the caller asks (its description or the
    /// tool's says "if not provided, returns base64 content", "Optionally saves the file
    /// locally"): the tool returns the content, a read.
    pub(crate) fn saves_only_if_asked(&self, argument: &Argument) -> bool {
        let own = argument
            .schema()
            .get("description")
            .and_then(Value::as_str)
            .map(Words::new);
        own.is_some_and(|words| words.first_phrase(OPTIONAL_SAVE_PHRASES).is_some())
            || self
                .description
                .first_phrase(OPTIONAL_SAVE_PHRASES)
                .is_some()
            || self.saves_aside(argument)
    }

    /// A query or report whose save path may be null and defaults to it (`output_path: null`):
    /// the result comes back unless the caller names a file; a tool whose verb is the saving
    /// (`export_csv`, `download_attachment`) still saves by default (round 13).
    fn saves_aside(&self, argument: &Argument) -> bool {
        let schema = argument.schema();
        let nullable = schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|options| {
                options
                    .iter()
                    .any(|o| o.get("type").and_then(Value::as_str) == Some("null"))
            });
        let null_default = schema.get("default").is_some_and(Value::is_null);
        let saving_verb = self.name_tokens.iter().any(|t| {
            [
                "export", "download", "save", "backup", "dump", "write", "generate",
            ]
            .contains(&t.as_str())
        });
        nullable && null_default && !saving_verb && !self.required(&argument.name)
    }

    /// Starting or stopping a recording of the caller's own page or session (`screencast_start`,
    /// `performance_stop_trace`): it observes, like a screenshot → read.
    pub(crate) fn records_own_session(&self) -> Option<&str> {
        let (_, verb) = self.name_verb()?;
        // A meeting's recording is everyone's; a page's trace is the caller's own.
        let own_page = self
            .description
            .first_phrase(&["page", "webpage", "browser", "tab", "screen"])
            .is_some();
        if !RECORDING_VERBS.contains(&verb) || !own_page {
            return None;
        }
        self.name_tokens
            .iter()
            .map(String::as_str)
            .find(|t| RECORDINGS.contains(t))
    }

    /// Whether the description says the call only sets what later calls act on ("Select a
    /// page as a context for future tool calls").
    pub(crate) fn sets_context_for_later_calls(&self) -> bool {
        self.description.first_phrase(LATER_CALLS_PHRASES).is_some()
    }

    /// Feedback sent to the makers of the tool or the service ("Send structured feedback on
    /// a previous search", "Report a bug, submit a feature request, or share feedback"): a note
    /// to the vendor, nothing of the tenant's changes → write, low.
    pub(crate) fn sends_feedback(&self) -> bool {
        let about_feedback = self.name_has(&["feedback"]) || self.lead.has_phrase("feedback");
        let sends = |verb: &str| FEEDBACK_VERBS.contains(&verb);
        let leads = self.lead.as_slice().first().is_some_and(|w| sends(w));
        let named = self.name_verb().is_some_and(|(_, verb)| sends(verb));
        about_feedback && (leads || named)
    }

    /// A run whose only payload is a URL (`Launch a live session` with `desiredURL`, `Start an
    /// accessibility scan` with `pageURL`): nothing of the caller's runs; a remote browser
    /// visits the page → network. Code, an image, a spec, a statement or an artifact path is
    /// what runs, and keeps it execute.
    pub(crate) fn visits_url_only(&self) -> bool {
        use crate::signals::Role;
        let runs_something = [Role::Code, Role::Image, Role::Spec, Role::Sql]
            .into_iter()
            .any(|role| self.argument(role).is_some())
            || self.caller_artifact_path().is_some()
            || self.nested_command().is_some()
            || self.any_api_request().is_some()
            || self.interpreter_choice().is_some();
        // Building or deploying from a URL runs what is there.
        let starts = self
            .name_verb()
            .is_some_and(|(_, verb)| ["launch", "start", "run", "open", "begin"].contains(&verb));
        starts && self.argument(Role::Url).is_some() && !runs_something
    }
}
