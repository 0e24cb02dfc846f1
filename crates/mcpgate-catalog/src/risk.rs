//! Deriving the risk level: a base per category, moved by what the tool acts
//! on, how far its effect reaches and how much the caller controls.

use mcpgate_policy::{Category, Risk};

use crate::evidence::{Evidence, EvidenceKind};
use crate::exposure::Exposure;
use crate::lexicon::{
    verb_category, ADDITIVE_TARGETS, CRITICAL_TARGETS, EXEC_PHRASES, EXEC_TOKENS, GATE_VERBS,
    OUTBOUND_VERBS, PRIVILEGE_OR_MONEY, RECREATABLE_TARGETS, SESSION_TARGETS, SHARED_CONFIGURATION,
    TOGGLE_VERBS, TRAFFIC_TARGETS,
};
use crate::signals::{Role, Signals};

/// The risk of a tool of `category`; appends one evidence entry per step.
pub(crate) fn derive(
    signals: &Signals,
    category: Category,
    exposure: Exposure,
    evidence: &mut Vec<Evidence>,
) -> Risk {
    let (risk, matched, message) = match category {
        Category::Read => match bearer_file_link(signals) {
            Some(words) if exposure == Exposure::Nothing => step(
                Risk::Medium,
                words,
                format!("reads a `{words}`: a download link anyone holding it can use → medium"),
            ),
            _ => read(exposure),
        },
        Category::Write => write(signals),
        Category::Destructive => destructive(signals),
        Category::Execute => execute(signals),
        Category::Credential => credential(signals),
        Category::Network => network(signals),
    };
    let kind = if matched.is_empty() {
        EvidenceKind::Default
    } else {
        EvidenceKind::Rule
    };
    evidence.push(Evidence::risk(kind, matched, risk, message));
    match signals.prose_warning() {
        Some(phrase) if category == Category::Write && risk < Risk::High => {
            let raised = if risk == Risk::Low {
                Risk::Medium
            } else {
                Risk::High
            };
            let message = format!("the description warns \"{phrase}\": one step up → {raised}");
            evidence.push(Evidence::risk(
                EvidenceKind::DescriptionPhrase,
                phrase,
                raised,
                message,
            ));
            raised
        }
        _ => risk,
    }
}

type Step = (Risk, String, String);

fn step(risk: Risk, matched: &str, message: String) -> Step {
    (risk, matched.to_owned(), message)
}

/// Verbs that answer an open incident, alert or request (`acknowledge` is no lexicon verb).
const RESPONSE_VERBS: &[&str] = &["resolve", "acknowledge", "ack", "close"];

/// A name that resolves, acknowledges or closes `all` of something (`resolve_all_incidents`)
/// and takes no list of which: every open item is answered at once, those nobody has looked
/// at included, so whatever was being raised goes quiet. One resolve is a reversible flag;
/// all of them is write high (round 11).
fn closes_every_open_item(signals: &Signals) -> Option<&'static str> {
    let tokens = &signals.name_tokens;
    let verb = RESPONSE_VERBS
        .iter()
        .copied()
        .find(|verb| tokens.first().is_some_and(|t| t == verb))?;
    let every = tokens.get(1).is_some_and(|t| t == "all");
    let listed = signals
        .arguments
        .iter()
        .any(|argument| argument.typed("array"));
    (every && !listed).then_some(verb)
}

/// Records of a DNS zone, or the zone itself, that a write edits one by one; since round 12
/// a resolver's local answers too (a host override, a static entry), which answer one name.
const DNS_RECORDS: &[&str] = &[
    "record",
    "records",
    "zone",
    "zones",
    "override",
    "overrides",
    "static",
];

/// A DNS write on records or a zone named one at a time (`create_dns_record`,
/// `update_dns_zone`): one name's answers change, the rubric's write base (round 11). One
/// whose first sentence reaches every matching record ("Bulk-edit every record matching")
/// stays with the traffic rule's high.
fn edits_dns_records(signals: &Signals) -> bool {
    let every = ["every", "all"].iter().any(|w| signals.lead.has_phrase(w));
    in_objects(signals, DNS_RECORDS).is_some() && !every
}

/// A write on what makes a whole domain resolve: its name servers or its DNSSEC records
/// (`update_name_servers`, `create_dnssec_record`). A wrong one takes every name of the domain
/// elsewhere or off the internet (round 11).
fn moves_whole_domain(signals: &Signals) -> Option<&'static str> {
    let tokens = &signals.name_tokens;
    if tokens.iter().any(|t| t == "dnssec") {
        return Some("dnssec");
    }
    let name_servers = tokens
        .windows(2)
        .any(|pair| pair[0] == "name" && ["server", "servers"].contains(&pair[1].as_str()));
    let nameservers = tokens
        .iter()
        .any(|t| t == "nameserver" || t == "nameservers");
    (name_servers || nameservers).then_some("name servers")
}

/// What a recurring schedule bills.
const BILLED_ITEMS: &[&str] = &[
    "invoice", "invoices", "bill", "bills", "charge", "charges", "payment", "payments",
];

/// A write on a recurring invoice, bill, charge or payment (`create_recurring_invoice`): the
/// service bills (and mails) the client each period with nobody looking, like a
/// subscription, where one invoice is a draft someone sends (round 12).
fn recurring_billing(signals: &Signals) -> Option<&'static str> {
    let recurring = signals
        .name_objects()
        .windows(2)
        .any(|pair| pair[0] == "recurring" && BILLED_ITEMS.contains(&pair[1].as_str()));
    recurring.then_some("recurring invoice")
}

/// Verbs that bring a new account into being (an invite is one that waits to be accepted).
const ACCOUNT_CREATING_VERBS: &[&str] = &["create", "add", "register", "invite", "import"];

/// A write that creates user accounts (`create_user`, `user_create`,
/// `import_org_users_and_groups`): each can sign in and act with whatever role it gets.
/// Adding a user *to* something (`add_user_to_channel`) is a membership, not a new account
/// (round 11).
fn creates_user_account(signals: &Signals) -> Option<&'static str> {
    let (_, verb) = signals.name_verb()?;
    if !ACCOUNT_CREATING_VERBS.contains(&verb) || signals.name_has_after_verb(&["to"]) {
        return None;
    }
    ["user", "users"]
        .into_iter()
        .find(|noun| signals.name_objects().iter().any(|t| t == noun))
}

/// A read named for a file's link (`get_file_link`): it returns a direct download URL that
/// works for whoever holds it, a bearer capability to the file, though nothing is sent or
/// published (round 11; the agreed precedent is Mattermost's `get_file_link`, read medium).
fn bearer_file_link(signals: &Signals) -> Option<&'static str> {
    signals
        .name_objects()
        .windows(2)
        .any(|pair| pair[0] == "file" && pair[1] == "link")
        .then_some("file link")
}

/// Kinds of policy that say how the service runs, not who may do what.
const OPERATIONAL_POLICIES: &[&str] = &[
    "escalation",
    "retention",
    "routing",
    "lifecycle",
    "scaling",
    "backup",
];

/// Whether the first sentence calls the policy the name names one of how the service runs
/// ("Create a new escalation policy": who is paged, in what order): no permission changes
/// (round 11).
fn policy_of_operations(signals: &Signals) -> bool {
    OPERATIONAL_POLICIES.iter().any(|kind| {
        signals.lead.has_phrase(&format!("{kind} policy"))
            || signals.lead.has_phrase(&format!("{kind} policies"))
    })
}

/// An array argument listing the items a call acts on by their ids or numbers
/// (`incident_numbers`, `message_ids`): a toggle over them flips several at once (round 11).
fn listed_items(signals: &Signals) -> Option<String> {
    signals
        .arguments
        .iter()
        .find(|argument| {
            argument.typed("array")
                && crate::text::identifier_tokens(&argument.name)
                    .last()
                    .is_some_and(|t| ["ids", "numbers"].contains(&t.as_str()))
        })
        .map(|argument| argument.name.clone())
}

/// What stands between a network and the machines behind it; since round 12 NAT too, whose
/// port forwards open inside machines to outside traffic.
const NETWORK_GUARDS: &[&str] = &["firewall", "firewalls", "acl", "acls", "waf", "nat"];
/// A write on a firewall (or ACL, WAF) that creates, applies, removes or sets its rules:
/// which traffic reaches which machines changes, so a server can be opened to anyone
/// (round 11; `remove_firewall_from_resources` read as a plain detachment before). An edit
/// of its name or labels alone, with no `rules` among its arguments, stays at the base.
///
/// Round 12: a firewall's address list (`add_address_list_entry`, "a firewall address list")
/// is what its rules allow or block by, so an entry added to it is a rule's reach changed;
/// and an edit named for a rule itself (`update_firewall_rule`, `update_nat_rule`) changes
/// the rule's match or action, not a label.
fn changes_network_guard(signals: &Signals) -> Option<String> {
    let guard = in_objects(signals, NETWORK_GUARDS)
        .map(str::to_owned)
        .or_else(|| firewall_address_list(signals))?;
    let (_, verb) = signals.name_verb()?;
    let rules = signals
        .arguments
        .iter()
        .map(|argument| argument.name.clone())
        .chain(signals.nested_property_names())
        .any(|name| name == "rules" || name == "rule");
    let names_rule = in_objects(signals, &["rule", "rules"]).is_some();
    if crate::signals::RELABELLING_VERBS.contains(&verb) && !rules && !names_rule {
        return None;
    }
    Some(guard)
}

/// A name whose objects are an address list (`address_list_entry`) on a tool whose
/// description calls it a firewall's ("Add one entry to a firewall address list").
fn firewall_address_list(signals: &Signals) -> Option<String> {
    let list = signals
        .name_objects()
        .windows(2)
        .any(|pair| pair[0] == "address" && pair[1] == "list");
    (list && signals.description.has_phrase("firewall address list"))
        .then(|| "firewall address list".to_owned())
}

/// A container created already holding something: items listed to fill it (`item_ids`,
/// `item_titles`, `items`), or contents loaded from a caller's `url` (a filter list
/// subscribed by URL; a link or bookmark *is* its URL). It is not the empty addition a bare
/// `create_list` is (round 13).
fn filled_on_creation(signals: &Signals, head: &str) -> bool {
    let items = signals.arguments.iter().any(|a| {
        a.typed("array")
            && crate::text::identifier_tokens(&a.name)
                .iter()
                .any(|t| t == "item" || t == "items")
    });
    // A table or chart added with its rows or series (`data`, `series_values`) carries the
    // caller's content, no empty container (round 16).
    let content = signals.arguments.iter().any(|a| {
        let tokens = crate::text::identifier_tokens(&a.name);
        let last = tokens.last().map(String::as_str).unwrap_or("");
        ["data", "values"].contains(&last) && (a.typed("array") || a.schema().get("type").is_none())
    });
    let loaded = !["link", "bookmark"].contains(&head)
        && signals
            .arguments
            .iter()
            .any(|a| a.name == "url" && a.typed("string") && signals.required(&a.name));
    items || content || loaded
}

fn in_objects<'s>(signals: &'s Signals, list: &[&str]) -> Option<&'s str> {
    signals
        .name_objects()
        .iter()
        .map(String::as_str)
        .find(|t| list.contains(t))
}

fn read(exposure: Exposure) -> Step {
    match exposure {
        Exposure::SecretMetadata => step(
            Risk::Medium,
            "secret metadata",
            "lists secret names or keys: sensitive metadata → medium".to_owned(),
        ),
        Exposure::AnyKindListing => step(
            Risk::Medium,
            "kind",
            "lists objects of a caller-chosen kind, Secrets included → medium".to_owned(),
        ),
        Exposure::AnyQuery => step(
            Risk::Medium,
            "graphql",
            "a caller-written GraphQL query reads any object type of the API → medium".to_owned(),
        ),
        Exposure::AnyRecordType => step(
            Risk::Medium,
            "record type",
            "reads records of a caller-chosen type, accounts and settings included → medium"
                .to_owned(),
        ),
        Exposure::Nothing => step(Risk::Low, "", "reads start at low".to_owned()),
    }
}

fn write(signals: &Signals) -> Step {
    if let Some(argument) = signals.record_type_argument() {
        return step(
            Risk::High,
            &argument.name,
            format!(
                "argument `{}`: writes a record of any type, user roles and server scripts included → high",
                argument.name
            ),
        );
    }
    if let Some(guard) = changes_network_guard(signals) {
        return step(
            Risk::High,
            &guard,
            format!("changes what a `{guard}` lets through or guards: who can reach what changes → high"),
        );
    }
    if let Some(verb) = detaching_verb(signals) {
        let object = signals.direct_object().join(" ");
        if signals
            .direct_object()
            .iter()
            .any(|t| PRIVILEGE_OR_MONEY.contains(&t.as_str()) || PEOPLE.contains(&t.as_str()))
        {
            return step(
                Risk::Medium,
                verb,
                format!(
                    "`{verb}` takes `{object}` off something: one person's part changes → medium"
                ),
            );
        }
        return step(
            Risk::Low,
            verb,
            format!("`{verb}` takes `{object}` off something, both stay → low"),
        );
    }
    for role in [Role::Spec, Role::Code, Role::Image] {
        if let Some(argument) = signals.argument(role) {
            return step(
                Risk::High,
                &argument.name,
                format!(
                    "argument `{}`: the caller supplies what runs or what the resource is → high",
                    argument.name
                ),
            );
        }
    }
    // Creating a secret object stores one (`create_secret`: medium); putting or
    // setting one replaces what the service already uses.
    let replaces = signals.name_has(&["put", "set", "update", "replace", "overwrite"]);
    if let Some(noun) = signals.credential_noun().filter(|_| replaces) {
        return step(
            Risk::High,
            &noun,
            format!("writes a `{noun}`: replaces a secret the service relies on → high"),
        );
    }
    if signals.sends_feedback() {
        return step(
            Risk::Low,
            "feedback",
            "feedback to the makers of the tool: nothing of the tenant's changes → low".to_owned(),
        );
    }
    if let Some(argument) = signals.replaces_whole_configuration() {
        return step(
            Risk::High,
            &argument,
            format!("`{argument}`: the whole configuration is replaced at once → high"),
        );
    }
    if let Some(word) = suppresses_alerting(signals) {
        return step(
            Risk::High,
            word,
            format!("`{word}` silences alerting: an incident can go unseen → high"),
        );
    }
    if let Some(property) = signals.qualified_secret_property() {
        return step(
            Risk::High,
            &property,
            format!("schema property `{property}`: the caller sets a secret → high"),
        );
    }
    // Merging a table's cells joins cells of a document, no branch or request (round 16).
    let lays_out_cells = signals.name_has(&["cell", "cells"]);
    if let Some(verb) = signals
        .name_tokens
        .iter()
        .map(String::as_str)
        .find(|t| GATE_VERBS.contains(t))
        .filter(|_| !lays_out_cells)
    {
        return step(
            Risk::High,
            verb,
            format!("`{verb}` decides what ships or who may change it → high"),
        );
    }
    if let Some(target) = moves_whole_domain(signals) {
        return step(
            Risk::High,
            target,
            format!(
                "changes a domain's `{target}`: the whole domain moves or stops resolving → high"
            ),
        );
    }
    let record_edit = |target: &&str| *target == "dns" && edits_dns_records(signals);
    if let Some(target) = in_objects(signals, TRAFFIC_TARGETS).filter(|t| !record_edit(t)) {
        return step(
            Risk::High,
            target,
            format!("changes a `{target}`: redirects live traffic → high"),
        );
    }
    let forwards = signals.nested_property_names().into_iter().find(|p| {
        [
            "forward",
            "forward_to",
            "auto_forward",
            "forwarding_address",
        ]
        .contains(&p.as_str())
    });
    if let Some(property) = forwards {
        return step(
            Risk::High,
            &property,
            format!("schema property `{property}`: can forward data to any address → high"),
        );
    }
    let words = &signals.description;
    let overwrites = words.first_phrase(&["overwrite", "overwrites", "overwriting", "overwritten"]);
    if let (Some(phrase), None) = (
        overwrites,
        words.first_phrase(&["will fail", "fails if", "fail if"]),
    ) {
        return step(
            Risk::High,
            phrase,
            format!("description says \"{phrase}\": existing content is lost → high"),
        );
    }
    if let Some(phrase) = words.first_phrase(&["evict", "evicts", "evicting", "eviction"]) {
        return step(
            Risk::High,
            phrase,
            format!("description says \"{phrase}\": running workloads are disrupted → high"),
        );
    }
    if let Some(noun) = creates_user_account(signals) {
        return step(
            Risk::High,
            noun,
            format!("creates a `{noun}`: someone new can sign in to the system → high"),
        );
    }
    // A member assigned to a card or a task does the work; it gains no access.
    let on_work_item = signals.name_has_after_verb(WORK_ITEMS);
    let privilege = in_objects(signals, PRIVILEGE_OR_MONEY)
        .filter(|noun| !(on_work_item && PEOPLE.contains(noun)))
        .filter(|noun| !(noun.starts_with("polic") && policy_of_operations(signals)));
    if let Some(noun) = privilege.or_else(|| moves_money_or_ownership(signals)) {
        return step(
            Risk::High,
            noun,
            format!("acts on `{noun}`: permissions or money → high"),
        );
    }
    // "Apply ALL staged changes of a subsystem": every change waiting, whoever staged it,
    // goes live at once, the firewall's included (round 12).
    let activates = signals
        .name_verb()
        .is_some_and(|(_, verb)| ["apply", "commit", "activate"].contains(&verb));
    let staged = ["staged changes", "pending changes", "unapplied changes"]
        .into_iter()
        .find(|phrase| signals.lead.has_phrase(phrase));
    if let Some(phrase) = staged.filter(|_| activates) {
        return step(
            Risk::High,
            phrase,
            format!("makes the \"{phrase}\" live at once, whoever staged them → high"),
        );
    }
    let stops = signals.name_verb().is_some_and(|(_, verb)| verb == "stop");
    if stops && crate::category::names_timer(signals) {
        return step(
            Risk::Low,
            "stop",
            "`stop` on a timer: the time so far is kept, nothing is lost → low".to_owned(),
        );
    }
    if let Some(billed) = recurring_billing(signals) {
        return step(
            Risk::High,
            billed,
            format!("writes a `{billed}`: the client is billed each period, unattended → high"),
        );
    }
    // An agent of a help desk or a CRM is a staff account: creating or changing one decides
    // who reads and answers every customer's tickets (round 5).
    // An AI agent (a model with a prompt) is configuration, not a person's account.
    let ai_agent = signals
        .description
        .first_phrase(&["ai", "llm", "model", "prompt", "instructions", "assistant"])
        .is_some();
    let account_verb = !ai_agent
        && signals
            .name_verb()
            .is_some_and(|(_, v)| ["create", "add", "update", "invite"].contains(&v));
    if let Some(head) = signals
        .object_head()
        .filter(|head| account_verb && ["agent", "agents"].contains(head))
    {
        return step(
            Risk::High,
            head,
            format!("creates or changes an `{head}`: a staff account with access → high"),
        );
    }
    let reconfigures = signals.name_verb().is_some_and(|(_, v)| {
        [
            "update",
            "edit",
            "modify",
            "patch",
            "write",
            "configure",
            "change",
        ]
        .contains(&v)
    });
    // A plan is shared configuration when it is what subscribers are billed by.
    let billing = signals
        .description
        .first_phrase(&["billing", "pricing", "subscription", "subscriptions"])
        .is_some();
    if let Some(head) = signals.object_head().filter(|head| {
        reconfigures && (SHARED_CONFIGURATION.contains(head) || (*head == "plan" && billing))
    }) {
        return step(
            Risk::High,
            head,
            format!("changes a `{head}` that everything in it reads → high"),
        );
    }
    // Renaming breaks everything that names the object; a bulk update reaches every match.
    let renames = signals.name_verb().map(|(_, v)| v) == Some("rename");
    let bulk = signals.name_has(&["update"]) && signals.name_has(&["many", "all", "bulk"]);
    if renames || bulk {
        let matched = if renames { "rename" } else { "update many" };
        return step(
            Risk::High,
            matched,
            format!("`{matched}`: every reference or every match changes at once → high"),
        );
    }
    if let Some((argument, value)) = signals.enum_offering(&["grant", "revoke"]) {
        return step(
            Risk::High,
            &argument.name,
            format!(
                "argument `{}` offers `{value}`: changes who may do what → high",
                argument.name
            ),
        );
    }
    if let Some(verb) = closes_every_open_item(signals) {
        return step(
            Risk::High,
            verb,
            format!(
                "`{verb}` every open item at once, none named: the whole queue is closed → high"
            ),
        );
    }
    let verb = signals.name_verb().map(|(_, v)| v);
    // "Pause playback on the active device", "Seek to a position in the currently playing
    // track": a media player's controls change what plays, and nothing is stored (round 13).
    if signals.controls_playback() {
        return step(
            Risk::Low,
            "playback",
            "controls a media player's playback: nothing is stored or sent → low".to_owned(),
        );
    }
    // "Refresh metadata for a library", "reindex": what is rebuilt is derived from its source,
    // which stays as it was, so a rerun restores it (round 13).
    if let Some(verb) = verb.filter(|v| ["refresh", "reindex", "rescan"].contains(v)) {
        return step(
            Risk::Low,
            verb,
            format!("`{verb}` rebuilds what is derived from its source: nothing is lost → low"),
        );
    }
    if let Some(verb) = verb.filter(|v| TOGGLE_VERBS.contains(v)) {
        if let Some(listed) = listed_items(signals) {
            return step(
                Risk::Medium,
                &listed,
                format!("`{verb}` over the caller-listed `{listed}`: several items change at once → medium"),
            );
        }
        return step(
            Risk::Low,
            verb,
            format!("`{verb}` flips a reversible flag → low"),
        );
    }
    let ends_session = verb.is_some_and(|v| SESSION_ENDING_VERBS.contains(&v))
        && (signals.name_objects().is_empty()
            || signals
                .name_objects()
                .iter()
                .any(|t| SESSION_TARGETS.contains(&t.as_str())));
    if ends_session || verb == Some("reconnect") {
        return step(
            Risk::Low,
            verb.unwrap_or_default(),
            "ends the caller's own session: nothing durable is lost → low".to_owned(),
        );
    }
    // Reordering, reparenting or linking existing items adds or loses nothing.
    let rearranges = signals
        .object_head()
        .is_some_and(|head| ["position", "positions", "rank", "parent"].contains(&head))
        || (verb == Some("link") && signals.name_has_after_verb(&["to"]));
    if rearranges {
        return step(
            Risk::Low,
            verb.unwrap_or_default(),
            "rearranges or relates existing items: nothing is added or lost → low".to_owned(),
        );
    }
    let chooses_active = verb.is_some_and(|v| ["set", "select", "switch", "use"].contains(&v))
        && (signals.name_has(&["active", "current"]) || signals.sets_context_for_later_calls());
    if chooses_active {
        return step(
            Risk::Low,
            "active",
            "chooses what later calls act on: the server's own session state → low".to_owned(),
        );
    }
    let views = verb
        .filter(|v| VIEW_STATE_VERBS.contains(v))
        .or_else(|| (verb == Some("handle") && signals.name_has(&["dialog"])).then_some("handle"));
    if let Some(verb) = views {
        return step(
            Risk::Low,
            verb,
            format!("`{verb}` changes only what the page shows: nothing is saved → low"),
        );
    }
    let publishes = signals
        .name_tokens
        .iter()
        .any(|t| OUTBOUND_VERBS.contains(&t.as_str()));
    if let Some(draft) = in_objects(signals, &["draft", "drafts"]).filter(|_| !publishes) {
        return step(
            Risk::Low,
            draft,
            format!("changes a `{draft}`: private until published → low"),
        );
    }
    let creates = signals.name_has(&["create", "add", "make", "mkdir", "new", "upload", "attach"]);
    let additive = signals
        .object_head()
        .filter(|head| ADDITIVE_TARGETS.contains(head))
        .filter(|head| !filled_on_creation(signals, head));
    if let Some(target) = additive.filter(|_| creates) {
        return step(
            Risk::Low,
            target,
            format!("creates an empty `{target}`: additive → low"),
        );
    }
    if signals.annotations.open_world == Some(true) {
        return step(
            Risk::Medium,
            "openWorldHint=true",
            "annotation openWorldHint=true: reaches outside the system → medium".to_owned(),
        );
    }
    step(Risk::Medium, "", "writes start at medium".to_owned())
}

fn destructive(signals: &Signals) -> Step {
    // "Returns: Save result with a `backup_id`": the service keeps what it removed, to put
    // back, so even a view and all its cards are one restore away (round 11).
    if signals.description.has_phrase("backup id") {
        return step(
            Risk::Medium,
            "backup id",
            "the removal returns a `backup_id`: what goes is kept to restore → medium".to_owned(),
        );
    }
    // "Move a Zotero item to the Trash", "Does not delete media": what goes can be put back,
    // or is a reference while the things it names stay (round 13). "To trash or permanently"
    // can still destroy.
    if let Some(phrase) = recoverable_removal(signals) {
        return step(
            Risk::Medium,
            phrase,
            format!(
                "the description says \"{phrase}\": what goes can be restored or stays → medium"
            ),
        );
    }
    if let Some(phrase) = signals.cascade_phrase() {
        return step(
            Risk::Critical,
            phrase,
            format!("description says \"{phrase}\": deletion cascades → critical"),
        );
    }
    if let Some(argument) = signals.recursive_argument() {
        return step(
            Risk::Critical,
            &argument.name,
            format!(
                "argument `{}`: the deletion takes everything beneath → critical",
                argument.name
            ),
        );
    }
    if let Some(argument) = signals
        .argument(Role::GenericTarget)
        .or_else(|| signals.record_type_argument())
    {
        return step(
            Risk::Critical,
            &argument.name,
            format!(
                "argument `{}`: can delete any kind of resource → critical",
                argument.name
            ),
        );
    }
    if let Some((argument, value)) = signals.type_choice_offering(CRITICAL_TARGETS) {
        return step(
            Risk::Critical,
            &argument,
            format!("argument `{argument}` offers `{value}`: the caller may delete a whole {value} → critical"),
        );
    }
    if let Some(phrase) = signals.removes_everything() {
        return step(
            Risk::Critical,
            &phrase,
            format!("the first sentence says \"{phrase}\": every object goes at once → critical"),
        );
    }
    // The head of the object decides: `delete_project_status` deletes a status.
    if let Some(target) = signals
        .object_head()
        .filter(|head| CRITICAL_TARGETS.contains(head))
    {
        return step(
            Risk::Critical,
            target,
            format!("deletes a `{target}`: takes everything in it → critical"),
        );
    }
    // Any operation over every listed item at once is no single cheap leaf (round 12).
    if let Some(operation) = crate::category::open_bulk_operation(signals) {
        return step(
            Risk::High,
            &operation,
            format!("argument `{operation}`: any bulk operation, deletion included, over every listed item → high"),
        );
    }
    if let Some(target) = in_objects(signals, RECREATABLE_TARGETS) {
        return step(
            Risk::Medium,
            target,
            format!("deletes a `{target}`: cheap to recreate → medium"),
        );
    }
    if let Some(part) = removed_part(signals) {
        return step(
            Risk::Medium,
            &part,
            format!("removes `{part}` from a data structure, not the structure → medium"),
        );
    }
    if let Some(verb) = detaches_many(signals) {
        return step(
            Risk::Medium,
            verb,
            format!("`{verb}` … `from` with an array of what goes: memberships are lost, the things and the container stay → medium"),
        );
    }
    if let Some(container) = removed_from_named_container(signals) {
        return step(
            Risk::Medium,
            &container,
            format!("removes something from the `{container}` it names by id: the {container} stays, one membership goes → medium"),
        );
    }
    step(Risk::High, "", "destructive tools start at high".to_owned())
}

/// Phrases of a removal that keeps what it names: moved to a trash, or only a reference gone.
const RECOVERABLE_PHRASES: &[&str] = &[
    "to the trash",
    "to trash",
    "to the recycle bin",
    "does not delete",
    "do not delete",
    "doesn't delete",
    "are not deleted",
    "is not deleted",
    "items survive",
];

fn recoverable_removal(signals: &Signals) -> Option<&'static str> {
    // "Empty the Trash for permanent deletion" tells what else removes it; "to trash or
    // permanently deletes it" is this tool's own choice.
    let permanent = [
        "or permanently",
        "permanently delete",
        "permanently deletes",
        "permanently deleted",
        "cannot be undone",
        "irreversible",
    ]
    .iter()
    .any(|p| signals.description.has_phrase(p));
    if permanent {
        return None;
    }
    signals.description.first_phrase(RECOVERABLE_PHRASES)
}

/// Words that name silencing monitoring (a mute, a silence, a downtime, a snooze).
const SUPPRESSION_WORDS: &[&str] = &[
    "mute",
    "silence",
    "silences",
    "downtime",
    "downtimes",
    "snooze",
    "suppress",
    "suppression",
];
/// Verbs that end a silence rather than start one: alerting comes back.
const UNSILENCING_VERBS: &[&str] = &[
    "cancel", "unmute", "end", "expire", "delete", "remove", "stop", "resume",
];

/// Objects of monitoring: what a mute, silence or snooze must name (in the name or the first
/// sentence) to silence alerting. Muting an account on a timeline hides posts, nothing more
/// (round 11).
#[rustfmt::skip]
const MONITORED_OBJECTS: &[&str] = &[
    "alert", "alerts", "alerting", "monitor", "monitors", "monitoring", "host", "hosts", "check",
    "checks", "incident", "incidents", "notification", "notifications", "trigger", "triggers",
    "service", "services", "rule", "rules", "escalation", "paging", "oncall",
];
/// Words that name a silencing window by themselves: a downtime or maintenance window
/// suppresses the alerts of what it covers (round 11 adds maintenance).
const SILENCING_WINDOWS: &[&str] = &["downtime", "downtimes", "maintenance", "maintenances"];

/// A write that silences monitoring (`mute_host`, `schedule_downtime`, `silences_write`,
/// `maintenance_create`): the name or the first sentence says downtime or maintenance, or
/// says mute, silence, snooze or suppress beside an object of monitoring, and the verb does
/// not end one.
pub(crate) fn suppresses_alerting(signals: &Signals) -> Option<&'static str> {
    // `end` is no verb of the lexicon (`end_maintenance`), so any name token counts.
    let ends = signals
        .name_verb()
        .is_some_and(|(_, verb)| UNSILENCING_VERBS.contains(&verb))
        || signals
            .name_tokens
            .iter()
            .any(|t| UNSILENCING_VERBS.contains(&t.as_str()));
    let said = |word: &&str| {
        signals.name_tokens.iter().any(|t| t == word) || signals.lead.has_phrase(word)
    };
    let monitored = MONITORED_OBJECTS.iter().any(said);
    SILENCING_WINDOWS
        .iter()
        .copied()
        .find(said)
        .or_else(|| {
            SUPPRESSION_WORDS
                .iter()
                .copied()
                .find(said)
                .filter(|_| monitored)
        })
        .filter(|_| !ends)
}

/// People whose part in a work item changes (`assign_member_to_card`).
const PEOPLE: &[&str] = &[
    "member",
    "members",
    "user",
    "users",
    "assignee",
    "assignees",
    "watcher",
    "watchers",
];
/// What people are assigned to to do work; membership there grants no access.
const WORK_ITEMS: &[&str] = &[
    "card", "cards", "task", "tasks", "issue", "issues", "ticket", "tickets", "story", "item",
];
/// Verbs that end or renew the caller's own session or connection.
const SESSION_ENDING_VERBS: &[&str] = &["close", "disconnect", "stop", "end", "exit", "quit"];
/// Verbs that change only how a page is viewed.
/// `navigate` reaches here only without a URL argument (back, forward, a tab).
const VIEW_STATE_VERBS: &[&str] = &[
    "hover", "resize", "scroll", "emulate", "zoom", "focus", "navigate",
];

/// A name verb that moves money or ownership: `refund`, `charge` and `pay` always do; a
/// `transfer` only when the description or an argument says what is owned or paid
/// (`ownership`, `funds`, an `amount`), since moving playback to another device or issues to
/// another cycle is a transfer too (round 9).
fn moves_money_or_ownership(signals: &Signals) -> Option<&'static str> {
    let (_, verb) = signals.name_verb()?;
    if let Some(verb) = ["refund", "charge", "pay"].into_iter().find(|v| *v == verb) {
        return Some(verb);
    }
    let said = signals.description.first_phrase(OWNED_OR_PAID).is_some()
        || signals.arguments.iter().any(|argument| {
            crate::text::identifier_tokens(&argument.name)
                .iter()
                .any(|token| OWNED_OR_PAID.contains(&token.as_str()))
        });
    (verb == "transfer" && said).then_some("transfer")
}

/// What a transfer of money or ownership names.
const OWNED_OR_PAID: &[&str] = &[
    "ownership",
    "owner",
    "owners",
    "funds",
    "fund",
    "money",
    "amount",
    "balance",
    "payment",
    "currency",
    "credits",
    "account",
    "accounts",
    "domain",
    "domains",
    "admin",
    "role",
];

/// A removal that takes one object off another, both staying (`remove_tag_from_task`,
/// `remove_project_from_task`: "the task will still exist"): the name says from what.
/// Several at once (an array of what goes, `contact_ids`, `uris`) is [`detaches_many`].
pub(crate) fn detaching_verb(signals: &Signals) -> Option<&'static str> {
    named_detachment(signals).filter(|_| !takes_many(signals))
}

/// A removal named "remove … from" that takes an array of what goes
/// (`remove_contact_from_lists` with `contact_ids`): memberships are lost, several at once,
/// while the things and the container stay: destructive, medium (round 9).
pub(crate) fn detaches_many(signals: &Signals) -> Option<&'static str> {
    named_detachment(signals).filter(|_| takes_many(signals))
}

fn named_detachment(signals: &Signals) -> Option<&'static str> {
    let (_, verb) = signals.name_verb()?;
    let verb = ["remove", "unlink", "detach", "unassign"]
        .into_iter()
        .find(|v| *v == verb)?;
    signals.name_has_after_verb(&["from"]).then_some(verb)
}

fn takes_many(signals: &Signals) -> bool {
    signals
        .arguments
        .iter()
        .any(|argument| argument.typed("array"))
}

/// The part a removal takes out of a list, set, hash or stream ("Remove a member from a
/// sorted set"): one element of a structure that stays, as cheap as a label.
fn removed_part(signals: &Signals) -> Option<String> {
    let lead = signals.lead.as_slice();
    let from = lead.iter().position(|w| w == "from")?;
    let part = lead[..from]
        .iter()
        .find(|w| REMOVED_PARTS.contains(&w.as_str()))?;
    lead[from + 1..]
        .iter()
        .take(4)
        .any(|w| STRUCTURES.contains(&w.as_str()))
        .then(|| part.clone())
}

/// A removal whose first sentence says "remove X from a Y" where the schema names the Y by
/// its id (`cycle_id` beside "Remove an issue from a cycle"): the Y is passed in to stay, so
/// what goes is one membership of it, not an object (round 9). Whole systems are not
/// memberships: "from the organization" keeps destructive's high start. Only "remove":
/// "Delete records from a table" deletes the records themselves.
fn removed_from_named_container(signals: &Signals) -> Option<String> {
    let lead = signals.lead.as_slice();
    if !lead
        .first()
        .is_some_and(|w| ["remove", "removes"].contains(&w.as_str()))
    {
        return None;
    }
    let from = lead.iter().position(|w| w == "from")?;
    let named_by_id = |word: &str| {
        signals.arguments.iter().any(|argument| {
            let tokens = crate::text::identifier_tokens(&argument.name);
            tokens.len() == 2 && tokens[0] == word && ["id", "ids"].contains(&tokens[1].as_str())
        })
    };
    lead[from + 1..]
        .iter()
        .take(4)
        .map(String::as_str)
        .find(|w| named_by_id(w) && !CRITICAL_TARGETS.contains(w))
        .map(str::to_owned)
}

const REMOVED_PARTS: &[&str] = &[
    "element", "elements", "member", "members", "field", "fields", "entry", "entries", "value",
    "values", "item", "items",
];
const STRUCTURES: &[&str] = &["list", "set", "hash", "stream", "array", "map", "queue"];

fn execute(signals: &Signals) -> Step {
    if let Some(choice) = signals.interpreter_choice() {
        return step(
            Risk::Critical,
            &choice.name,
            format!(
                "argument `{}`: caller-written code in a caller-chosen interpreter → critical",
                choice.name
            ),
        );
    }
    if let Some(method) = signals.any_api_request() {
        return step(
            Risk::Critical,
            &method.name,
            format!(
                "argument `{}`: any request, deletes and token mints included, with the server's credential → critical",
                method.name
            ),
        );
    }
    if let Some(method) = signals.server_function_call() {
        return step(
            Risk::Critical,
            &method.name,
            format!(
                "argument `{}` with free arguments: any function of the server's API, deletes included → critical",
                method.name
            ),
        );
    }
    if let Some(operation) = signals.service_gateway() {
        return step(
            Risk::Critical,
            &operation.name,
            format!(
                "argument `{}`: any operation of any service, deletes and payments included → critical",
                operation.name
            ),
        );
    }
    if let Some(argument) = signals.command_line_array() {
        return step(
            Risk::Critical,
            &argument.name,
            format!(
                "argument `{}`: the whole command line of a CLI, any of its commands → critical",
                argument.name
            ),
        );
    }
    if let Some(argument) = signals.graphql_mutation() {
        return step(
            Risk::Critical,
            &argument.name,
            format!(
                "argument `{}`: any GraphQL mutation, deletes included, with the server's credential → critical",
                argument.name
            ),
        );
    }
    if let Some(argument) = signals.argument(Role::Sql) {
        // A statement the tool says is a read (`read_query`, "a SELECT query") only reads.
        // "Read-only mode by default" can be switched off by the caller.
        let by_default = signals
            .description
            .first_phrase(&["read only by default", "read only mode by default"])
            .is_some();
        let read_only = signals.annotations.read_only == Some(true)
            || (signals.description.has_phrase("read only") && !by_default)
            || signals.name_has(&["read"])
            || signals
                .description
                .first_phrase(&[
                    "select query",
                    "select queries",
                    "select statement",
                    "select statements",
                ])
                .is_some();
        if read_only {
            return step(
                Risk::Medium,
                &argument.name,
                format!(
                    "argument `{}`: caller-chosen SQL, read-only → medium",
                    argument.name
                ),
            );
        }
        return step(
            Risk::High,
            &argument.name,
            format!("argument `{}`: caller-chosen SQL → high", argument.name),
        );
    }
    if let Some(argument) = signals.argument(Role::Code) {
        let lead_verb = signals.lead.as_slice().first().map(String::as_str);
        let exec_token = signals
            .name_tokens
            .iter()
            .map(String::as_str)
            .chain(lead_verb.filter(|v| ["execute", "executes", "exec"].contains(v)))
            .find(|t| EXEC_TOKENS.contains(t) || t.starts_with("execute"));
        if let Some(signal) = exec_token.or_else(|| signals.description.first_phrase(EXEC_PHRASES))
        {
            return step(Risk::Critical, signal, format!("`{signal}` with argument `{}`: arbitrary commands in a running environment → critical", argument.name));
        }
    }
    for role in [Role::Code, Role::Image, Role::Spec] {
        if let Some(argument) = signals.argument(role) {
            return step(
                Risk::High,
                &argument.name,
                format!(
                    "argument `{}`: the caller chooses what runs → high",
                    argument.name
                ),
            );
        }
    }
    let artifact = signals
        .caller_artifact_path()
        .map(|a| a.name.clone())
        .or_else(|| signals.nested_command());
    if let Some(artifact) = artifact {
        return step(
            Risk::High,
            &artifact,
            format!("`{artifact}`: the caller chooses what runs → high"),
        );
    }
    if let Some(artifact) = crate::category::code_artifact(signals) {
        return step(
            Risk::High,
            &artifact,
            format!("the caller supplies the `{artifact}` the service runs → high"),
        );
    }
    // A CI/CD pipeline builds and ships; a rollback or deploy chooses what runs in production.
    if let Some(target) = signals
        .name_tokens
        .iter()
        .map(String::as_str)
        .find(|t| ["pipeline", "pipelines", "deploy", "deployment", "rollback"].contains(t))
    {
        return step(
            Risk::High,
            target,
            format!("runs a `{target}`: builds or ships to an environment → high"),
        );
    }
    step(
        Risk::Medium,
        "",
        "runs only what is already defined → medium".to_owned(),
    )
}

fn credential(signals: &Signals) -> Step {
    let mints = signals.name_verb().is_some_and(|(_, verb)| {
        verb_category(verb) == Some(Category::Write)
            || ["rotate", "mint", "generate", "regenerate", "issue"].contains(&verb)
    });
    if let Some(property) = signals.sets_credential() {
        return step(
            Risk::Critical,
            &property,
            format!("schema sets `{property}`: a new way into the system → critical"),
        );
    }
    if let Some(field) = signals.edited_secret_field() {
        return step(
            Risk::Critical,
            &field,
            format!("the edit sets `{field}`: a way in replaced → critical"),
        );
    }
    if let Some(phrase) = signals.mints_credential() {
        return step(
            Risk::Critical,
            phrase,
            format!("creates a \"{phrase}\": a new way into the system → critical"),
        );
    }
    if crate::category::exchanges_authorization_code(signals).is_some() {
        return step(
            Risk::Critical,
            "authorization code",
            "exchanges an authorization code for the tokens the server keeps: whose account it acts as changes → critical".to_owned(),
        );
    }
    let webhook = signals.name_has(&["webhook"]).then(|| "webhook".to_owned());
    match signals.credential_noun().or(webhook).filter(|_| mints) {
        Some(noun) => step(
            Risk::Critical,
            &noun,
            format!("creates or changes a `{noun}`: a new way into the system → critical"),
        ),
        None => step(Risk::High, "", "credential tools start at high".to_owned()),
    }
}

fn network(signals: &Signals) -> Step {
    // A port forward opens a tunnel in to the cluster; nothing is sent out.
    let tunnel = signals.name_has(&["port"]);
    let outbound_verb = signals
        .name_verb()
        .map(|(_, v)| v)
        .filter(|v| OUTBOUND_VERBS.contains(v) && !tunnel);
    if let Some(argument) = signals.sends_local_file() {
        return step(
            Risk::High,
            &argument.name,
            format!(
                "argument `{}`: sends a file off the server's disk → high",
                argument.name
            ),
        );
    }
    if let Some(reach) = signals.reaches_outside_party() {
        return step(
            Risk::High,
            &reach,
            format!("`{reach}`: reaches people outside the tenant → high"),
        );
    }
    let destination = signals.argument(Role::Destination).map(|a| a.name.as_str());
    match (outbound_verb, destination) {
        (_, Some(argument)) => step(
            Risk::High,
            argument,
            format!("argument `{argument}`: sends to an outside recipient → high"),
        ),
        (Some(verb), None) if signals.argument(Role::Channel).is_some() => step(
            Risk::Medium,
            verb,
            format!("`{verb}` into a workspace conversation → medium"),
        ),
        (Some(verb), None) => step(
            Risk::High,
            verb,
            format!("`{verb}` sends data out: publication or exfiltration → high"),
        ),
        (None, None) => step(
            Risk::Medium,
            "",
            "brings data in from other hosts → medium".to_owned(),
        ),
    }
}
