//! Choosing a tool's category: weighted signals, then a few rules that read
//! signals together.
//!
//! Weights: the first verb of the name 6, later name verbs 2, telling nouns
//! in the name 2–3, the description's leading verb 3 (coordinated verbs 2),
//! description phrases 2–3, argument names 2–4, annotations 1–3. The highest
//! total wins; ties go to the more dangerous category.

use mcpgate_policy::Category;

use crate::evidence::{Evidence, EvidenceKind};
use crate::lexicon::{
    verb_category, BINDING_TARGETS, CODE_ARTIFACTS, COMMIT_TARGETS, EXECUTE_NOUNS,
    INTERNAL_TARGETS, NETWORK_NOUNS, OPEN_WEB_PHRASES, OUTBOUND_VERBS, READ_NOUNS, RETRIEVAL_VERBS,
};
use crate::signals::{name_token_verb, Role, Signals};

/// Ties go to the first of these: the cautious reading.
const PRECEDENCE: [Category; 6] = [
    Category::Execute,
    Category::Credential,
    Category::Destructive,
    Category::Network,
    Category::Write,
    Category::Read,
];

#[rustfmt::skip]
const EXECUTE_PHRASES: &[&str] = &[
    "execute a command", "execute commands", "execute command", "executes a command",
    "run a command", "runs a command", "shell command", "shell commands", "arbitrary command",
    "arbitrary commands", "arbitrary code", "execute code", "execute javascript", "execute python",
    "run code", "run a script", "execute a script", "execute sql", "sql query", "sql statement",
    "execute arbitrary",
];
#[rustfmt::skip]
const NETWORK_PHRASES: &[&str] = &[
    "from the internet", "fetch a url", "fetches a url", "http request", "send an email",
    "sends an email", "send a message", "post a message", "remote registry", "webhook",
];
#[rustfmt::skip]
const READ_PHRASES: &[&str] = &[
    "read only", "does not modify", "without modifying",
];

/// A code artifact the tool writes with a body the caller supplies, or installs.
pub(crate) fn code_artifact(signals: &Signals) -> Option<String> {
    let artifact = signals
        .name_objects()
        .iter()
        .find(|t| CODE_ARTIFACTS.contains(&t.as_str()))?;
    let installs = signals.name_has(&["install", "upgrade"]);
    let body = signals.arguments.iter().any(|a| {
        let tokens = crate::text::identifier_tokens(&a.name);
        let last = tokens.last().map(String::as_str).unwrap_or("");
        ["body", "content", "source", "code", "definition"].contains(&last)
            && signals.required(&a.name)
    });
    (installs || body).then(|| artifact.clone())
}

/// A name that joins a read verb to a write verb with `and` (`search_and_replace`,
/// `find_and_replace`): the tool finds and then changes what it found, so the write is its
/// effect however the leading read verb votes (round 16).
fn joined_change(signals: &Signals) -> Option<&str> {
    let tokens = &signals.name_tokens;
    let and = tokens.iter().position(|t| t == "and")?;
    let before = tokens.get(..and)?;
    let after = tokens.get(and + 1)?;
    let reads = before
        .iter()
        .any(|t| verb_category(t) == Some(Category::Read));
    (reads && verb_category(after) == Some(Category::Write)).then_some(after.as_str())
}

/// Values of an operation argument that make the tool a deletion too.
const REMOVAL_OPERATIONS: &[&str] = &["delete", "remove", "drop", "destroy", "purge", "truncate"];

/// A weighted vote for a category.
#[derive(Debug)]
struct Vote {
    category: Category,
    weight: u32,
    evidence: Evidence,
}

/// Scores every signal and returns the winning category with the votes for it,
/// strongest first.
pub(crate) fn score(signals: &Signals) -> (Category, Vec<Evidence>) {
    let votes = votes(signals);
    let total = |category: Category| -> u32 {
        votes
            .iter()
            .filter(|v| v.category == category)
            .map(|v| v.weight)
            .sum()
    };
    let best = PRECEDENCE.into_iter().map(total).max().unwrap_or(0);
    if best == 0 {
        let default = Evidence::category(
            EvidenceKind::Default,
            "",
            Category::Write,
            "no recognised verb, phrase, argument or hint: assumed to change state",
        );
        return (Category::Write, vec![default]);
    }
    let winner = PRECEDENCE
        .into_iter()
        .find(|c| total(*c) == best)
        .unwrap_or(Category::Write);
    let mut chosen: Vec<Vote> = votes.into_iter().filter(|v| v.category == winner).collect();
    chosen.sort_by_key(|vote| std::cmp::Reverse(vote.weight));
    let evidence = chosen.into_iter().map(|v| v.evidence).collect();
    match context_rule(signals, winner) {
        Some((category, ruled)) => (category, vec![ruled]),
        None => (winner, evidence),
    }
}

/// A free-string `operation` (no list of which) over an array of the items it acts on, on a
/// tool its server marks destructive (`bulk_edit_tags`: "Apply a bulk operation to a set of
/// tags"): the caller may pick the deletion the hint warns of, for every listed item at once
/// (round 12). An `action` is left alone: on a rule it is what the rule does to traffic.
pub(crate) fn open_bulk_operation(signals: &Signals) -> Option<String> {
    if signals.annotations.destructive != Some(true)
        || !signals.arguments.iter().any(|a| a.typed("array"))
    {
        return None;
    }
    signals
        .arguments
        .iter()
        .find(|a| {
            ["operation", "op"].contains(&a.name.as_str())
                && a.typed("string")
                && a.schema().get("enum").is_none()
        })
        .map(|a| a.name.clone())
}

/// An OAuth authorization code passed in to be exchanged (`code`, on a tool or an argument
/// whose description says "authorization code"): the server trades it for access and refresh tokens it keeps
/// and acts with from then on, whoever's account approved it (round 12; the agreed
/// `linear_auth_callback`).
pub(crate) fn exchanges_authorization_code(signals: &Signals) -> Option<&crate::signals::Argument> {
    let said = |text: Option<&str>| {
        text.is_some_and(|t| crate::text::Words::new(t).has_phrase("authorization code"))
    };
    signals.arguments.iter().find(|a| {
        let described = a
            .schema()
            .get("description")
            .and_then(serde_json::Value::as_str);
        a.name == "code"
            && a.typed("string")
            && (signals.description.has_phrase("authorization code") || said(described))
    })
}

/// Arguments that carry a file's bytes in the call itself.
const INLINE_CONTENT: &[&str] = &["content", "content_base64", "base64", "file_content"];

/// Whether an upload takes the file's bytes inline and names no path or URL: neither a file
/// of the server's disk nor a place outside the service is involved (round 12).
fn uploads_inline_content(signals: &Signals) -> bool {
    let names: Vec<String> = signals
        .arguments
        .iter()
        .map(|a| crate::text::identifier_tokens(&a.name).join("_"))
        .collect();
    let inline = names.iter().any(|n| INLINE_CONTENT.contains(&n.as_str()));
    let elsewhere = names.iter().any(|n| {
        let last = n.rsplit('_').next().unwrap_or("");
        ["path", "paths", "url", "uri", "filepath"].contains(&last)
    });
    inline && !elsewhere
}

/// A name whose objects are a timer (`timer`, a `time entry`): starting or stopping one
/// records when work ran, it runs nothing (round 12).
pub(crate) fn names_timer(signals: &Signals) -> bool {
    let objects = signals.name_objects();
    objects.iter().any(|t| t == "timer" || t == "timers")
        || objects
            .windows(2)
            .any(|pair| pair[0] == "time" && pair[1] == "entry")
}

/// Rules that read several signals together and overturn the vote.
fn context_rule(signals: &Signals, winner: Category) -> Option<(Category, Evidence)> {
    let rule = |matched: &str, category: Category, message: String| {
        Some((
            category,
            Evidence::category(EvidenceKind::Rule, matched, category, message),
        ))
    };
    if winner == Category::Read {
        if let Some(verb) = joined_change(signals) {
            return rule(
                verb,
                Category::Write,
                format!("the name joins a read to `{verb}` with `and`: the call does both, so it writes → write"),
            );
        }
        if let Some(phrase) = signals.description.first_phrase(OPEN_WEB_PHRASES) {
            return rule(
                phrase,
                Category::Network,
                format!(
                    "description says \"{phrase}\": content from the open web comes in → network"
                ),
            );
        }
    }
    if matches!(winner, Category::Read | Category::Write) {
        if let Some(argument) = signals.sends_local_file() {
            return rule(
                &argument.name,
                Category::Network,
                format!(
                    "argument `{}` with an upload: a file off the server's disk leaves it → network",
                    argument.name
                ),
            );
        }
    }
    if winner == Category::Read {
        if let Some((verb, target)) = signals.reworks_stored_object() {
            return rule(
                &target.name,
                Category::Write,
                format!(
                    "`{verb}` of the object `{}` names: the result is stored beside or in it → write",
                    target.name
                ),
            );
        }
    }
    if matches!(winner, Category::Read | Category::Network) {
        if let Some(argument) = signals
            .argument(Role::LocalSave)
            .filter(|a| !signals.saves_only_if_asked(a))
        {
            return rule(
                &argument.name,
                Category::Write,
                format!(
                    "argument `{}`: saves the result on the server's disk → write",
                    argument.name
                ),
            );
        }
    }
    if let Some(choice) = signals.interpreter_choice() {
        return rule(
            &choice.name,
            Category::Execute,
            format!(
                "argument `{}` picks the interpreter for the caller's code → execute",
                choice.name
            ),
        );
    }
    if let Some(method) = signals.any_api_request() {
        return rule(
            &method.name,
            Category::Execute,
            format!(
                "argument `{}` offers DELETE beside writes, with a path to send it to: any call against the API → execute",
                method.name
            ),
        );
    }
    if let Some(operation) = signals.service_gateway() {
        return rule(
            &operation.name,
            Category::Execute,
            format!(
                "argument `{}` names any operation of any service, with a free-form payload: a gateway to the whole API → execute",
                operation.name
            ),
        );
    }
    if let Some(argument) = signals.graphql_mutation() {
        return rule(
            &argument.name,
            Category::Execute,
            format!(
                "argument `{}` takes GraphQL mutations: any create, update or delete against the API → execute",
                argument.name
            ),
        );
    }
    if winner == Category::Read {
        // The description must say the statement runs: "Search the MySQL docs" takes words.
        let runs = signals
            .lead
            .as_slice()
            .iter()
            .any(|w| ["execute", "executes", "run", "runs", "execution"].contains(&w.as_str()));
        if let Some(statement) = signals.argument(Role::Sql).filter(|_| runs) {
            return rule(
                &statement.name,
                Category::Execute,
                format!(
                    "argument `{}`: the caller writes the statement the database runs, read or not → execute",
                    statement.name
                ),
            );
        }
        if let Some(artifact) = signals.caller_artifact_path() {
            return rule(
                &artifact.name,
                Category::Execute,
                format!(
                    "argument `{}`: the service installs and runs the artifact the caller chose → execute",
                    artifact.name
                ),
            );
        }
    }
    if matches!(winner, Category::Read | Category::Write) {
        if let Some(command) = signals.nested_command() {
            return rule(
                &command,
                Category::Execute,
                format!(
                    "schema property `{command}`: the service runs the caller's command → execute"
                ),
            );
        }
    }
    if winner == Category::Execute && signals.visits_url_only() {
        let url = signals
            .argument(Role::Url)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        return rule(
            &url,
            Category::Network,
            format!("starts a session or scan whose only input is `{url}`: a remote browser visits it → network"),
        );
    }
    if matches!(winner, Category::Read | Category::Write | Category::Network)
        && signals.sends_feedback()
    {
        return rule(
            "feedback",
            Category::Write,
            "sends feedback to the makers of the tool: a note, nothing of the tenant's changes → write"
                .to_owned(),
        );
    }
    if matches!(winner, Category::Execute | Category::Write) {
        if let Some(recording) = signals.records_own_session() {
            return rule(
                recording,
                Category::Read,
                format!("starts or stops a `{recording}` of the caller's own session: it observes → read"),
            );
        }
    }
    // `post_pool` "Create a pool", `post_dag_run` "Trigger a DAG": a name verb `post` read as
    // the HTTP method of a generated name, when the description opens with a verb of another
    // kind, which says what the call does (round 11).
    let posts = signals
        .name_verb()
        .is_some_and(|(index, verb)| index == 0 && verb == "post");
    let opening = signals
        .lead
        .as_slice()
        .first()
        .and_then(|word| crate::lexicon::verb_category(word))
        .filter(|category| *category != Category::Network);
    if let Some(category) = opening.filter(|_| winner == Category::Network && posts) {
        return rule(
            "post",
            category,
            format!("name verb `post` as an HTTP method; the description opens with a {category} verb → {category}"),
        );
    }
    // "Delete (archive) a client": a first sentence that glosses its deletion as an archive
    // says the object is hidden from active lists and kept, history and all, so nothing is
    // lost; the agreed `archive_card` is a write (round 12).
    let archives = [
        "delete archive",
        "deletes archive",
        "remove archive",
        "removes archive",
    ]
    .into_iter()
    .find(|phrase| signals.lead.has_phrase(phrase));
    if let Some(phrase) = archives.filter(|_| winner == Category::Destructive) {
        return rule(
            phrase,
            Category::Write,
            format!(
                "the first sentence says \"{phrase}\": the object is archived and kept → write"
            ),
        );
    }
    // `run_report` "Execute an ERPNext report": running a report the service defines reads
    // the data it sums up; nothing runs that the caller wrote (round 12).
    let report = signals
        .name_objects()
        .last()
        .is_some_and(|t| t == "report" || t == "reports");
    if winner == Category::Execute && report && signals.argument(Role::Code).is_none() {
        return rule(
            "report",
            Category::Read,
            "runs a `report`: a defined summary of stored data is read → read".to_owned(),
        );
    }
    if let Some(code) = exchanges_authorization_code(signals) {
        return rule(
            &code.name,
            Category::Credential,
            format!("argument `{}` and \"authorization code\": traded for tokens the server keeps → credential", code.name),
        );
    }
    // `convert_estimate_to_invoice` (an `estimate_id`): converting a stored object to
    // another kind makes the new one, where converting a value (`convert_time`) works it out
    // (round 12).
    let converts = signals
        .name_verb()
        .is_some_and(|(_, verb)| verb == "convert");
    let stored = signals.arguments.iter().any(|a| {
        crate::text::identifier_tokens(&a.name)
            .last()
            .is_some_and(|t| t == "id")
    });
    if winner == Category::Read
        && converts
        && signals.name_has_after_verb(&["to", "into"])
        && stored
    {
        return rule(
            "convert",
            Category::Write,
            "converts a stored object, named by id, into another kind: the new one is created → write".to_owned(),
        );
    }
    // `upload_document` with `content_base64`: the caller's own bytes, passed inline, are
    // added to the service's store; no file leaves the server's disk and no path or URL
    // names where else it goes (round 12).
    let uploads = signals
        .name_verb()
        .is_some_and(|(_, verb)| verb == "upload");
    if winner == Category::Network && uploads && uploads_inline_content(signals) {
        return rule(
            "upload",
            Category::Write,
            "`upload` of content passed inline: added to the service's own store → write"
                .to_owned(),
        );
    }
    // `start_time_entry` "Start a new timer": a time tracker's timer records when work ran;
    // starting one is a write, not a job run (round 12).
    let starts = signals.name_verb().is_some_and(|(_, verb)| verb == "start");
    if winner == Category::Execute && starts && names_timer(signals) {
        return rule(
            "start",
            Category::Write,
            "`start` on a timer: records when work began, runs nothing → write".to_owned(),
        );
    }
    // A `ping` with no arguments names no host: it checks the server's own connection to
    // its service (a readiness probe), which observes and reaches nobody new (round 11).
    let pings = signals.name_verb().is_some_and(|(_, verb)| verb == "ping");
    if winner == Category::Network && pings && signals.arguments.is_empty() {
        return rule(
            "ping",
            Category::Read,
            "`ping` with no host to reach: checks the server's own connection → read".to_owned(),
        );
    }
    // "Open the automation editor in the browser": opening a page or a view of an existing
    // object by at most its id shows it; nothing is sent, saved or changed (round 9).
    let opens = signals.name_verb().is_some_and(|(_, verb)| verb == "open");
    if winner == Category::Write
        && opens
        && (signals.arguments.is_empty() || signals.carries_no_data())
    {
        return rule(
            "open",
            Category::Read,
            "`open` with nothing but an id: shows a page or view of what exists → read".to_owned(),
        );
    }
    // "Manage Redash queries. Actions: list, ..., run, adhoc": an action router one of whose
    // actions runs the caller's SQL or code is labelled by that action (round 14).
    if let Some(code) = runs_code_among_actions(signals) {
        if winner != Category::Execute {
            return rule(
                &code,
                Category::Execute,
                format!("an action runs the caller's `{code}`: labelled by that action → execute"),
            );
        }
    }
    // `create_predictions`, `create_trainings`: a prediction or a training is a run of a
    // hosted model on the caller's inputs (billed, nothing of the caller's own runs): the
    // service runs what it already has (round 14).
    let creates = signals
        .name_verb()
        .is_some_and(|(_, verb)| verb == "create");
    let model_run = signals
        .name_objects()
        .iter()
        .any(|t| ["prediction", "predictions", "training", "trainings"].contains(&t.as_str()));
    if winner == Category::Write && creates && model_run {
        return rule(
            "prediction",
            Category::Execute,
            "creates a prediction or a training: a hosted model runs on the inputs → execute"
                .to_owned(),
        );
    }
    // "Start playback of media on a client": a player is told what to play; no job or code
    // of the service runs (round 13).
    if winner == Category::Execute && signals.controls_playback() {
        return rule(
            "playback",
            Category::Write,
            "starts or steers a player's playback: what plays changes → write".to_owned(),
        );
    }
    // "Run up to 30 creates, updates, deletes and queries in one request": what runs is a
    // batch of the service's own operations, not code or a defined job, so it is labelled by
    // its worst operation (round 13).
    if winner == Category::Execute {
        if let Some(removal) = batch_with_removals(signals) {
            return rule(
                &removal,
                Category::Destructive,
                format!("runs a batch of operations, `{removal}` among them: labelled by its worst → destructive"),
            );
        }
    }
    if winner == Category::Write {
        if let Some(actions) = signals.removal_among_actions() {
            return rule(
                &actions,
                Category::Destructive,
                format!("{actions} among its actions: labelled by its worst action → destructive"),
            );
        }
        if let Some(operation) = open_bulk_operation(signals) {
            return rule(
                &operation,
                Category::Destructive,
                format!("argument `{operation}` takes any bulk operation over listed items, destructiveHint=true: labelled by its worst, a deletion → destructive"),
            );
        }
        if let Some(reach) = signals.reaches_outside_party() {
            return rule(
                &reach,
                Category::Network,
                format!(
                    "`{reach}`: the service delivers it to people outside the tenant → network"
                ),
            );
        }
    }
    if winner == Category::Read {
        if let Some((verb, category)) = signals.description_changes() {
            return rule(
                &verb,
                category,
                format!(
                    "the description says it `{verb}` something: the safer reading → {category}"
                ),
            );
        }
    }
    // Sending or publishing an object by id delivers it to people; an upload that takes no
    // file, path or content only completes one already made.
    let uploads = signals
        .name_verb()
        .is_some_and(|(_, verb)| verb == "upload")
        || signals.name_has(&["upload"]);
    if winner == Category::Network && uploads && signals.carries_no_data() {
        return rule(
            "identifiers only",
            Category::Write,
            "an upload whose every argument names an existing object: nothing of the caller's leaves → write"
                .to_owned(),
        );
    }
    let creates = signals.name_has(&["create", "add", "new", "make"]);
    if creates && signals.name_has(&["webhook"]) && signals.argument(Role::Url).is_none() {
        return rule(
            "webhook",
            Category::Credential,
            "creates a webhook with no target URL: mints a URL whose token lets anyone post → credential".to_owned(),
        );
    }
    if winner == Category::Destructive {
        if let Some(verb) = crate::risk::detaching_verb(signals) {
            return rule(
                verb,
                Category::Write,
                format!("`{verb}` … `from`: takes one object off another, both stay → write"),
            );
        }
    }
    if winner == Category::Write {
        // "Stop and remove a container, then run a new container" with an image and a
        // command: the write ends by running what the caller chose.
        let then_runs = signals.lead.as_slice().windows(2).any(|pair| {
            ["and", "then"].contains(&pair[0].as_str())
                && verb_category(&pair[1]) == Some(Category::Execute)
        });
        if let Some(argument) = signals
            .argument(Role::Code)
            .or_else(|| signals.argument(Role::Image))
            .filter(|_| then_runs)
        {
            return rule(
                &argument.name,
                Category::Execute,
                format!(
                    "then runs, with argument `{}`: the caller chooses what runs → execute",
                    argument.name
                ),
            );
        }
        if let Some(artifact) = code_artifact(signals) {
            return rule(
                &artifact,
                Category::Execute,
                format!("writes or installs a `{artifact}` with its body: code the service then runs → execute"),
            );
        }
        if let Some(argument) = signals.arguments.iter().find(|a| {
            a.roles.contains(&Role::Code)
                && !a.roles.contains(&Role::Sql)
                && signals.required(&a.name)
        }) {
            return rule(
                &argument.name,
                Category::Execute,
                format!("required argument `{}`: the caller supplies the code that is deployed and run → execute", argument.name),
            );
        }
    }
    None
}

fn votes(signals: &Signals) -> Vec<Vote> {
    let mut votes = Vec::new();
    name_votes(signals, &mut votes);
    description_votes(signals, &mut votes);
    argument_votes(signals, &mut votes);
    annotation_votes(signals, &mut votes);
    votes
}

/// The votes behind a verdict, as the confidence reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tally {
    /// Each category's total weight, in precedence order (ties go to the first).
    pub(crate) totals: Vec<(Category, u32)>,
    /// Where the name's first verb points.
    pub(crate) name_verb: Option<Category>,
    /// Where the description's leading verb points.
    pub(crate) description_verb: Option<Category>,
}

/// Counts the same votes [`score`] counts, without choosing.
pub(crate) fn tally(signals: &Signals) -> Tally {
    let votes = votes(signals);
    let totals = PRECEDENCE
        .into_iter()
        .map(|category| {
            let total = votes
                .iter()
                .filter(|v| v.category == category)
                .map(|v| v.weight)
                .sum();
            (category, total)
        })
        .collect();
    Tally {
        totals,
        name_verb: signals
            .name_tokens
            .iter()
            .enumerate()
            .find_map(|(index, token)| name_verb_sense(signals, index, token)),
        description_verb: signals
            .lead
            .as_slice()
            .first()
            .and_then(|verb| verb_sense(signals, verb)),
    }
}

/// A name token's verb sense (later tokens without third-person endings).
fn name_verb_sense(signals: &Signals, index: usize, token: &str) -> Option<Category> {
    name_token_verb(index, token)?;
    verb_sense(signals, token)
}

/// A verb's category, read with what the name says it acts on: retrieval of a URL
/// is a network call, pushing files or publishing a draft note stays a write inside
/// the tenant's service, navigating without a URL only moves the page, and cancelling
/// a subscription or an invoice cannot be taken back.
fn verb_sense(signals: &Signals, verb: &str) -> Option<Category> {
    let category = verb_category(verb)?;
    let base = verb
        .strip_suffix("es")
        .filter(|b| verb_category(b).is_some())
        .or_else(|| verb.strip_suffix('s'))
        .filter(|b| verb_category(b).is_some())
        .unwrap_or(verb);
    if category == Category::Network {
        if base == "push" && signals.name_has(COMMIT_TARGETS) {
            return Some(Category::Write);
        }
        if OUTBOUND_VERBS.contains(&base) && signals.name_has(INTERNAL_TARGETS) {
            return Some(Category::Write);
        }
        // "Push a value onto the left of a Redis list": into a data structure, not out
        // (`set` is left out: it is mostly a verb, "and set an expiration").
        let into_structure =
            signals.lead.as_slice().iter().any(|w| {
                ["list", "lists", "stream", "array", "queue", "stack"].contains(&w.as_str())
            });
        if base == "push" && into_structure {
            return Some(Category::Write);
        }
        let reaches = ["navigate", "visit", "goto"].contains(&base);
        if reaches && signals.argument(Role::Url).is_none() {
            return Some(Category::Write);
        }
    }
    if base == "cancel" && signals.name_has(BINDING_TARGETS) {
        return Some(Category::Destructive);
    }
    let retrieves = RETRIEVAL_VERBS.iter().any(|r| {
        verb == *r || verb.strip_suffix("es") == Some(r) || verb.strip_suffix('s') == Some(r)
    });
    if category == Category::Read && retrieves && signals.argument(Role::Url).is_some() {
        return Some(Category::Network);
    }
    Some(category)
}

fn vote(
    votes: &mut Vec<Vote>,
    category: Category,
    weight: u32,
    kind: EvidenceKind,
    matched: &str,
    message: String,
) {
    votes.push(Vote {
        category,
        weight,
        evidence: Evidence::category(kind, matched, category, message),
    });
}

fn name_votes(signals: &Signals, votes: &mut Vec<Vote>) {
    let mut first = true;
    let action = signals.name_verb().map(|(index, _)| index);
    for (index, token) in signals.name_tokens.iter().enumerate() {
        if let Some(category) = name_verb_sense(signals, index, token) {
            // `get_or_create_label`: a verb after `or` is as much the tool's action.
            let joined =
                index > 0 && ["or", "and"].contains(&signals.name_tokens[index - 1].as_str());
            let weight = if action == Some(index) || joined {
                6
            } else {
                2
            };
            let message = format!("name verb `{token}` → {category}");
            vote(
                votes,
                category,
                weight,
                EvidenceKind::NameVerb,
                token,
                message,
            );
            first = false;
        }
    }
    let has_verb = !first;
    for token in &signals.name_tokens {
        let noun = |list: &[&str]| list.contains(&token.as_str());
        let found = if noun(READ_NOUNS) && !has_verb {
            Some((Category::Read, 3))
        } else if noun(EXECUTE_NOUNS) {
            Some((Category::Execute, 3))
        } else if noun(NETWORK_NOUNS) {
            Some((Category::Network, 2))
        } else {
            None
        };
        if let Some((category, weight)) = found {
            let message = format!("name noun `{token}` → {category}");
            vote(
                votes,
                category,
                weight,
                EvidenceKind::NameNoun,
                token,
                message,
            );
        }
    }
}

fn description_votes(signals: &Signals, votes: &mut Vec<Vote>) {
    let lead = signals.lead.as_slice();
    if let Some(first) = lead.first() {
        if let Some(category) = verb_sense(signals, first) {
            let message = format!("description starts with `{first}` → {category}");
            vote(
                votes,
                category,
                3,
                EvidenceKind::DescriptionVerb,
                first,
                message,
            );
        }
    }
    // "Create and run a pod", "Stop and remove a container, then run a new one".
    for pair in lead.windows(2) {
        if ["and", "or", "then"].contains(&pair[0].as_str()) {
            if let Some(category) = verb_sense(signals, &pair[1]) {
                let message = format!("description verb `{}` → {category}", pair[1]);
                vote(
                    votes,
                    category,
                    2,
                    EvidenceKind::DescriptionVerb,
                    &pair[1],
                    message,
                );
            }
        }
    }
    let phrase_lists: [(&[&str], Category, u32); 3] = [
        (EXECUTE_PHRASES, Category::Execute, 3),
        (NETWORK_PHRASES, Category::Network, 2),
        (READ_PHRASES, Category::Read, 2),
    ];
    for (phrases, category, weight) in phrase_lists {
        if let Some(phrase) = signals.description.first_phrase(phrases) {
            let message = format!("description says \"{phrase}\" → {category}");
            vote(
                votes,
                category,
                weight,
                EvidenceKind::DescriptionPhrase,
                phrase,
                message,
            );
        }
    }
}

fn argument_votes(signals: &Signals, votes: &mut Vec<Vote>) {
    let roles: [(Role, Category, u32, &str); 5] = [
        (
            Role::Code,
            Category::Execute,
            4,
            "caller-chosen code or command",
        ),
        (Role::Image, Category::Execute, 2, "container image to run"),
        (Role::Url, Category::Network, 3, "URL to reach"),
        (Role::Destination, Category::Network, 3, "outside recipient"),
        (
            Role::Credential,
            Category::Credential,
            2,
            "secret passed in",
        ),
    ];
    // An operation chosen among fixed values (`operation: insert | update | delete`): the
    // schema says what the one tool can do, whatever its name says.
    let operations: [(&[&str], Category, &str); 2] = [
        (
            REMOVAL_OPERATIONS,
            Category::Destructive,
            "the same call deletes",
        ),
        (
            &[
                "grant", "revoke", "insert", "create", "update", "upsert", "set",
            ],
            Category::Write,
            "the same call changes state",
        ),
    ];
    for (values, category, meaning) in operations {
        if let Some((argument, value)) = signals.enum_offering(values) {
            let message = format!(
                "argument `{}` offers `{value}`: {meaning} → {category}",
                argument.name
            );
            vote(
                votes,
                category,
                4,
                EvidenceKind::Argument,
                &argument.name,
                message,
            );
        }
    }
    if let Some(argument) = read_only_actions(signals) {
        let message = format!(
            "argument `{}` offers only reads (list, get ...): the tool reads → read",
            argument.name
        );
        vote(
            votes,
            Category::Read,
            6,
            EvidenceKind::Argument,
            &argument.name,
            message,
        );
    }
    let mut voted: Vec<Category> = Vec::new();
    for (role, category, weight, meaning) in roles {
        // One argument vote per category: `command` and `entrypoint` are one signal.
        if voted.contains(&category) {
            continue;
        }
        if let Some(argument) = signals.argument(role) {
            let message = format!("argument `{}`: {meaning} → {category}", argument.name);
            vote(
                votes,
                category,
                weight,
                EvidenceKind::Argument,
                &argument.name,
                message,
            );
            voted.push(category);
        }
    }
}

/// An `action` or `operation` argument whose every choice starts with a read verb
/// (`action: list | get_status | get_changes`): one tool for several reads of a resource,
/// whatever the resource's name (`pipelines_build`) reads like.
fn read_only_actions(signals: &Signals) -> Option<&crate::signals::Argument> {
    signals.arguments.iter().find(|argument| {
        let named = ["action", "operation", "op"].contains(&argument.name.as_str());
        let values: Vec<&str> = argument
            .schema()
            .get("enum")
            .and_then(serde_json::Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect()
            })
            .unwrap_or_default();
        named
            && !values.is_empty()
            && values.iter().all(|value| {
                crate::text::identifier_tokens(value)
                    .first()
                    .is_some_and(|verb| {
                        crate::lexicon::exact_verb_category(verb) == Some(Category::Read)
                    })
            })
    })
}

fn annotation_votes(signals: &Signals, votes: &mut Vec<Vote>) {
    let hints = signals.annotations;
    if hints.read_only == Some(true) {
        let message = "annotation readOnlyHint=true → read".to_owned();
        vote(
            votes,
            Category::Read,
            3,
            EvidenceKind::Annotation,
            "readOnlyHint=true",
            message,
        );
    } else if hints.destructive == Some(true) {
        let message = "annotation destructiveHint=true → destructive".to_owned();
        vote(
            votes,
            Category::Destructive,
            2,
            EvidenceKind::Annotation,
            "destructiveHint=true",
            message,
        );
    }
    if hints.open_world == Some(true) {
        let message = "annotation openWorldHint=true → network".to_owned();
        vote(
            votes,
            Category::Network,
            1,
            EvidenceKind::Annotation,
            "openWorldHint=true",
            message,
        );
    }
}

/// A lead that runs a batch of the service's operations named as plural nouns (`creates`,
/// `updates`, `deletes`): the removal among them, when a change is there too.
fn batch_with_removals(signals: &Signals) -> Option<String> {
    let lead = signals.lead.as_slice();
    let runs = lead.first().is_some_and(|w| {
        ["run", "runs", "execute", "executes", "perform", "performs"].contains(&w.as_str())
    });
    if !runs {
        return None;
    }
    let removal = lead
        .iter()
        .find(|w| ["deletes", "removes", "deletions", "removals"].contains(&w.as_str()))?;
    let changes = lead
        .iter()
        .any(|w| ["creates", "updates", "inserts", "upserts", "writes"].contains(&w.as_str()));
    changes.then(|| removal.clone())
}

/// An `action` choice offering a run (`run`, `adhoc`, `execute`) beside an argument of the
/// caller's SQL or code: the argument's name.
fn runs_code_among_actions(signals: &Signals) -> Option<String> {
    let runs = signals.offered_actions().into_iter().any(|(_, values)| {
        values
            .iter()
            .any(|v| ["run", "adhoc", "execute", "exec"].contains(&v.as_str()))
    });
    if !runs {
        return None;
    }
    signals
        .argument(crate::signals::Role::Code)
        .map(|a| a.name.clone())
}
