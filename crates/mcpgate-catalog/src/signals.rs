//! The raw observations the rules work from, gathered once per tool.

use mcpgate_policy::Category;

use crate::lexicon::{
    exact_verb_category, verb_category, CREDENTIAL_NOUNS, KEY_QUALIFIERS, TOGGLE_VERBS,
};
use crate::text::{first_sentence, identifier_tokens, Words};
use crate::tool::{ToolAnnotations, ToolDefinition};

/// What an argument name suggests about the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Code or a command chosen by the caller (`command`, `script`, `sql`).
    Code,
    /// A SQL statement (`sql`, or `query` when the tool speaks of SQL).
    Sql,
    /// A container image to run.
    Image,
    /// A whole resource specification (`yaml_content`, `manifest`, `patch`).
    Spec,
    /// A URL to reach.
    Url,
    /// A recipient outside the system (`to`, `recipient`, `email`).
    Destination,
    /// A conversation inside a workspace (`channel_id`, `thread_ts`).
    Channel,
    /// A secret passed in (`password`, `token`, `api_key`).
    Credential,
    /// A switch that reveals secret values (`decode`, `with_decryption`).
    Reveal,
    /// A caller-chosen object kind (`kind`): the tool works on any type.
    Kind,
    /// A caller-chosen resource type (`kind`, `resource_type`).
    GenericTarget,
    /// A caller-chosen type of record in the service's own schema (`object_type`, `doctype`,
    /// `table_name`): its users, roles and scripts are records like any other (round 12).
    RecordType,
    /// A path on the server's own disk where the result is saved (`save_path`, `local_path`).
    LocalSave,
    /// A file on the server's own disk the tool reads (`file_path`, `paths`).
    LocalFile,
}

/// One top-level argument of the input schema.
#[derive(Debug, Clone)]
pub(crate) struct Argument {
    /// The name as the schema spells it.
    pub(crate) name: String,
    /// What the name suggests.
    pub(crate) roles: Vec<Role>,
    schema: serde_json::Value,
}

impl Argument {
    /// The argument's JSON Schema.
    pub(crate) fn schema(&self) -> &serde_json::Value {
        &self.schema
    }

    /// Whether its schema's `type` is `kind` (`"boolean"`, `"array"`...).
    pub(crate) fn typed(&self, kind: &str) -> bool {
        crate::schema::typed(&self.schema, kind)
    }
}

/// Everything the rules look at, in matchable form.
#[derive(Debug, Clone)]
pub(crate) struct Signals {
    pub(crate) name_tokens: Vec<String>,
    /// The description's words.
    pub(crate) description: Words,
    /// The words of the description's first sentence.
    pub(crate) lead: Words,
    /// The description as written, line breaks and quotes kept.
    pub(crate) raw_description: String,
    pub(crate) arguments: Vec<Argument>,
    pub(crate) annotations: ToolAnnotations,
    required: Vec<String>,
    /// The name ends in an agent noun that names its action (`deploy-services-reader`),
    /// rewritten to its verb (`read`) in `name_tokens`.
    agent_noun: bool,
}

impl Signals {
    pub(crate) fn gather(tool: &ToolDefinition) -> Self {
        let description = Words::new(tool.description());
        // SQLite, MySQL and PostgreSQL count: their `query` argument is SQL too, and so is a
        // statement in another database's query language (Cypher).
        let sql_context = description
            .as_slice()
            .iter()
            .any(|w| w.contains("sql") || w == "cypher")
            || identifier_tokens(tool.name())
                .iter()
                .any(|t| t.contains("sql"));
        let arguments = tool
            .arguments()
            .into_iter()
            .map(|(name, schema)| Argument {
                name: name.to_owned(),
                // A `query` whose own description says "SQL or MongoDB JSON query" is SQL
                // whatever the tool's description says (round 14).
                roles: roles(name, sql_context || own_description_says_sql(schema))
                    .into_iter()
                    // A choice among fixed names (`template: "forward-all" | ...`) is no spec,
                    // nor is a `patch` of declared fields that takes no others (round 12).
                    .filter(|role| {
                        *role != Role::Spec
                            || (schema.get("enum").is_none()
                                && !crate::consequence::names_a_choice(schema)
                                && !closed_fields(schema))
                    })
                    // A `kind` from an enum (`ips | prefixes | vlans`, a knowledge domain) is a
                    // choice among those, not any kind the service holds; an enum offering a
                    // secret kind is round 11's secret object kinds (round 12). So is a deletion's
                    // `kind` or `resource_type` from an enum (`block | allow`): it deletes one of
                    // those, not any kind of resource (round 13).
                    .filter(|role| {
                        !matches!(role, Role::Kind | Role::GenericTarget)
                            || schema.get("enum").is_none()
                    })
                    .chain(open_resource_type(name, schema).then_some(Role::Kind))
                    .chain(open_record_type(name, schema).then_some(Role::RecordType))
                    .collect(),
                schema: schema.clone(),
            })
            .collect();
        let (name_tokens, agent_noun) = agent_noun_as_verb(name_tokens(tool.name()));
        let mut signals = Signals {
            name_tokens,
            agent_noun,
            raw_description: tool.description().to_owned(),
            lead: Words::new(first_sentence(tool.description())),
            description,
            arguments,
            annotations: tool.annotations(),
            required: tool
                .input_schema()
                .and_then(|schema| schema.get("required"))
                .and_then(serde_json::Value::as_array)
                .map(|names| {
                    names
                        .iter()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        };
        // An item's `code` beside its `name` is its SKU, not a program (round 5).
        let identifiers: Vec<String> = signals
            .arguments
            .iter()
            .filter(|a| signals.code_is_identifier(a))
            .map(|a| a.name.clone())
            .collect();
        // A router's `command` picks one of its own operations; it is no code (round 7).
        let operations: Vec<String> = signals
            .arguments
            .iter()
            .filter(|a| signals.command_is_operation_choice(a))
            .map(|a| a.name.clone())
            .collect();
        for argument in &mut signals.arguments {
            if identifiers.contains(&argument.name) || operations.contains(&argument.name) {
                argument.roles.retain(|role| *role != Role::Code);
            }
        }
        signals
    }

    /// The first top-level argument whose `enum` offers one of `values` (compared in
    /// lowercase), with the value it offers: `operation: insert | update | delete`.
    pub(crate) fn enum_offering(&self, values: &[&str]) -> Option<(&Argument, String)> {
        self.arguments.iter().find_map(|argument| {
            let offered = argument.schema.get("enum")?.as_array()?;
            offered
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_lowercase)
                .find(|value| values.contains(&value.as_str()))
                .map(|value| (argument, value))
        })
    }

    /// A generic request against the service's own API: a `method` argument offering
    /// DELETE beside other HTTP methods, and a path or endpoint argument to send it to.
    pub(crate) fn any_api_request(&self) -> Option<&Argument> {
        let method = self.arguments.iter().find(|a| {
            let offered: Vec<String> = a
                .schema
                .get("enum")
                .and_then(serde_json::Value::as_array)
                .map(|values| {
                    values
                        .iter()
                        .filter_map(serde_json::Value::as_str)
                        .map(str::to_uppercase)
                        .collect()
                })
                .unwrap_or_default();
            identifier_tokens(&a.name).last().map(String::as_str) == Some("method")
                && offered.iter().any(|m| m == "DELETE")
                && offered
                    .iter()
                    .any(|m| m == "POST" || m == "PUT" || m == "PATCH")
        })?;
        self.arguments
            .iter()
            .any(|a| {
                let tokens = identifier_tokens(&a.name);
                ["endpoint", "path", "url", "uri"]
                    .contains(&tokens.last().map(String::as_str).unwrap_or(""))
            })
            .then_some(method)
    }

    /// The argument choosing the record type of a generic record API (`create_record` with a
    /// free `table_name`, `netbox_get_objects` with a free `object_type`): the name speaks of
    /// records, documents or objects after its verb, and a read's verb returns them (a
    /// type's schema, a count or an aggregate does not) (round 12).
    pub(crate) fn record_type_argument(&self) -> Option<&Argument> {
        let argument = self.argument(Role::RecordType)?;
        let (index, verb) = self.name_verb()?;
        // `qbo_create` with a free `entity`: a name that stops at its verb leaves the record
        // type to the argument, as `create_record` does (round 13).
        let objects = &self.name_tokens[index + 1..];
        let records =
            objects.is_empty() || objects.iter().any(|t| RECORD_NOUNS.contains(&t.as_str()));
        let reads = verb_category(verb) == Some(Category::Read);
        (records && (!reads || RECORD_READING_VERBS.contains(&verb))).then_some(argument)
    }

    /// The first argument with this role.
    pub(crate) fn argument(&self, role: Role) -> Option<&Argument> {
        self.arguments.iter().find(|a| a.roles.contains(&role))
    }

    /// An argument choosing the interpreter the code argument runs in (`language: bash |
    /// python | node`): the caller writes and picks what executes.
    pub(crate) fn interpreter_choice(&self) -> Option<&Argument> {
        self.argument(Role::Code)?;
        self.arguments.iter().find(|a| {
            a.schema
                .get("enum")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|values| {
                    values
                        .iter()
                        .filter_map(serde_json::Value::as_str)
                        .any(|v| CODE_LANGUAGES.contains(&v.to_lowercase().as_str()))
                })
        })
    }

    /// The name's action, with its position: the first token that is a known verb, or,
    /// in the resource-then-action convention (`monitor_delete`, `index_update`), a
    /// changing verb ending the name after a token that only reads as a verb.
    pub(crate) fn name_verb(&self) -> Option<(usize, &str)> {
        // A name of one plural word (`mutes`, `bookmarks`) is the listing of those things, not
        // a verb in the third person (round 11).
        let lone_plural = |token: &str| {
            self.name_tokens.len() == 1
                && token.ends_with('s')
                && exact_verb_category(token).is_none()
        };
        let first = self
            .name_tokens
            .iter()
            .enumerate()
            .find(|(index, token)| name_token_verb(*index, token).is_some() && !lone_plural(token))
            .map(|(index, token)| (index, token.as_str()))?;
        let last = self.name_tokens.len() - 1;
        let closing = &self.name_tokens[last];
        if self.agent_noun {
            return Some((last, closing.as_str()));
        }
        let changes = matches!(
            exact_verb_category(closing),
            Some(Category::Write | Category::Destructive | Category::Execute)
        );
        // `get_refund`, `list_charges`: a plain read verb leads, and the rest is its object.
        // `preview_subscription_update`: a preview of a change makes none (round 10).
        let reads_first = name_token_verb(first.0, first.1) == Some(Category::Read)
            && !PLAIN_READ_VERBS.contains(&first.1)
            && !HYPOTHETICAL_VERBS.contains(&first.1);
        if last > first.0 && changes && reads_first {
            return Some((last, closing.as_str()));
        }
        // `follow_request_reject`: a leading toggle verb (`follow`) names the resource when a
        // changing verb closes the name (round 11).
        let toggle_first = first.0 == 0 && TOGGLE_VERBS.contains(&first.1);
        if last > first.0 && changes && toggle_first {
            return Some((last, closing.as_str()));
        }
        // `list_create`, `list_accounts_add`: a leading `list` names the resource when the
        // description opens with a write verb, as the name closes ("Create a list", round 11).
        // Removals are left as they were: their objects (`list_accounts_delete`) would read
        // as what is deleted.
        let opens_with_closing = exact_verb_category(closing) == Some(Category::Write)
            && self
                .lead
                .as_slice()
                .first()
                .is_some_and(|word| verb_category(word) == Some(Category::Write));
        if last > first.0 && changes && first.0 == 0 && first.1 == "list" && opens_with_closing {
            return Some((last, closing.as_str()));
        }
        Some(first)
    }

    /// The name tokens after the verb (or all of them): what the tool acts on.
    /// With the verb last (`route_delete`, `kv_namespace_delete`), the tokens before it.
    pub(crate) fn name_objects(&self) -> &[String] {
        match self.name_verb() {
            Some((index, _)) if index + 1 == self.name_tokens.len() => &self.name_tokens[..index],
            Some((index, _)) => &self.name_tokens[index + 1..],
            None => &self.name_tokens,
        }
    }

    /// What the name's verb acts on directly: the object tokens up to the first
    /// preposition (`add_card_to_list` → `card`; `delete_project_status` → `project status`).
    pub(crate) fn direct_object(&self) -> &[String] {
        let objects = self.name_objects();
        let end = objects
            .iter()
            .position(|t| PREPOSITIONS.contains(&t.as_str()))
            .unwrap_or(objects.len());
        &objects[..end]
    }

    /// The head of the direct object, its last word (`project status` is a status).
    pub(crate) fn object_head(&self) -> Option<&str> {
        self.direct_object().last().map(String::as_str)
    }

    /// Whether a preposition follows the verb in the name (`remove_tag_from_task`).
    pub(crate) fn name_has_after_verb(&self, words: &[&str]) -> bool {
        self.name_objects()
            .iter()
            .any(|t| words.contains(&t.as_str()))
    }

    /// A file off the server's disk that the tool sends to its service: a file-path
    /// argument, and a description that says it uploads or posts (`confluence_upload_attachment`,
    /// `firecrawl_parse`: "reads filePath from the MCP server filesystem and posts" it).
    pub(crate) fn sends_local_file(&self) -> Option<&Argument> {
        let sends = self.description.first_phrase(&[
            "upload",
            "uploads",
            "uploaded",
            "posts",
            "sends",
            "multipart",
        ]);
        // "Path to the local image file" of a tool that sets the service's artwork: the file
        // is read off the server's disk into the service, which is what an upload is; and a
        // `source` the description calls "a local file path" is a file path (round 13).
        let local = self.description.first_phrase(&[
            "local file",
            "local image file",
            "local file path",
            "absolute file path",
        ]);
        let file = self.argument(Role::LocalFile).or_else(|| {
            local.and_then(|_| {
                self.arguments
                    .iter()
                    .find(|a| a.name == "source" && a.typed("string"))
            })
        });
        sends.or(local).and(file)
    }

    /// A first sentence about a player's playback (`playback`, `currently playing`): play,
    /// pause, seek, volume, shuffle, repeat, queue and the device it plays on (round 13).
    pub(crate) fn controls_playback(&self) -> bool {
        self.lead.has_phrase("playback") || self.lead.has_phrase("currently playing")
    }

    /// Whether the input schema lists `name` as required.
    pub(crate) fn required(&self, name: &str) -> bool {
        self.required.iter().any(|r| r == name)
    }

    /// Whether any name token is one of `words`.
    pub(crate) fn name_has(&self, words: &[&str]) -> bool {
        self.name_tokens.iter().any(|t| words.contains(&t.as_str()))
    }

    /// Every property name anywhere in the input schema, nested ones included, as
    /// identifier tokens joined by `_` (`forwardTo` → `forward_to`).
    pub(crate) fn nested_property_names(&self) -> Vec<String> {
        fn walk(value: &serde_json::Value, out: &mut Vec<String>, depth: usize) {
            if depth > 8 {
                return;
            }
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                        out.extend(properties.keys().map(|k| identifier_tokens(k).join("_")));
                    }
                    map.values().for_each(|v| walk(v, out, depth + 1));
                }
                serde_json::Value::Array(items) => {
                    items.iter().for_each(|v| walk(v, out, depth + 1))
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for argument in &self.arguments {
            walk(&argument.schema, &mut out, 0);
        }
        out
    }

    /// A credential noun in the name (`secret`, `token`, `api key`), if any.
    pub(crate) fn credential_noun(&self) -> Option<String> {
        let tokens = &self.name_tokens;
        // What follows `in`/`from` is where the tool looks, not what it handles:
        // `list_files_in_vault` lists files.
        let end = tokens
            .iter()
            .position(|t| ["in", "from", "within", "inside"].contains(&t.as_str()))
            .unwrap_or(tokens.len());
        let tokens = &tokens[..end];
        // Creating or sending a one-time code texts it to the account's registered contact:
        // the caller never holds it (`create_sms_otp`), unlike verifying one.
        let delivers = self.name_verb().is_some_and(|(_, verb)| {
            ["create", "send", "resend", "request", "trigger"].contains(&verb)
        });
        tokens.iter().enumerate().find_map(|(index, token)| {
            if delivers && DELIVERED_CODES.contains(&token.as_str()) {
                return None;
            }
            if CREDENTIAL_NOUNS.contains(&token.as_str()) {
                return Some(token.clone());
            }
            let qualified = index > 0 && KEY_QUALIFIERS.contains(&tokens[index - 1].as_str());
            let public = qualified && self.handles_public_key_only(&tokens[index - 1]);
            (qualified && !public && (token == "key" || token == "keys"))
                .then(|| format!("{} {token}", tokens[index - 1]))
        })
    }

    /// Whether a `{qualifier} key` the name handles is only the public half, handled without
    /// its key material: the SSH keys a service stores are public keys, so listing, reading
    /// or renaming one hands nobody a way in (round 11). Registering one (a create, or an
    /// edit taking the key itself) grants login and stays a credential; a description
    /// speaking of a private key keeps it one too.
    fn handles_public_key_only(&self, qualifier: &str) -> bool {
        if qualifier != "ssh" || self.description.has_phrase("private") {
            return false;
        }
        let Some((index, verb)) = self.name_verb() else {
            return false;
        };
        if name_token_verb(index, verb) == Some(Category::Read) {
            return true;
        }
        let key_material = self
            .arguments
            .iter()
            .map(|argument| argument.name.clone())
            .chain(self.nested_property_names())
            .any(|name| identifier_tokens(&name).last().is_some_and(|t| t == "key"));
        RELABELLING_VERBS.contains(&verb) && !key_material
    }
}

/// Verbs of an edit that may change only what an object is called or tagged with.
pub(crate) const RELABELLING_VERBS: &[&str] = &["update", "edit", "rename", "modify", "patch"];

/// Credentials that a service delivers to a registered contact rather than to the caller.
const DELIVERED_CODES: &[&str] = &["otp", "totp"];

/// A name token's verb sense: the first token may carry a third-person ending,
/// later ones must be spelled as listed (`browser_console_messages` names messages).
pub(crate) fn name_token_verb(index: usize, token: &str) -> Option<mcpgate_policy::Category> {
    if index == 0 {
        verb_category(token)
    } else {
        exact_verb_category(token)
    }
}

/// Qualifiers under which a URL argument is still a host to reach (`page_url`,
/// `webhook_url`). Any other qualifier makes it the address of the service itself or
/// of one of its own objects (`regionUrl`, `base_url`, `issueUrl`, `profileUrl`).
#[rustfmt::skip]
const TARGET_URL_QUALIFIERS: &[&str] = &[
    "web", "website", "site", "page", "target", "start", "source", "remote", "download", "file",
    "image", "feed", "webhook", "callback", "redirect", "external", "destination", "request",
    "fetch", "link", "video", "audio", "document", "resource", "desired",
];

/// The name's tokens, without the HTTP method of an OpenAPI-generated name
/// (`API-post-search`, `API-patch-page`): the method says how, not what. `get` and `delete`
/// stay: they say what as well (`API-get-block-children` reads, whatever `block` could mean).
fn name_tokens(name: &str) -> Vec<String> {
    let mut tokens = identifier_tokens(name);
    let generated = tokens.len() > 2
        && tokens[0] == "api"
        && ["get", "post", "put", "patch", "delete"].contains(&tokens[1].as_str());
    if generated && tokens[1] != "delete" && tokens[1] != "get" {
        tokens.remove(1);
    }
    tokens
}

/// Agent nouns that name a tool's action when they end its name.
#[rustfmt::skip]
const AGENT_NOUNS: &[(&str, &str)] = &[
    ("reader", "read"), ("writer", "write"), ("updater", "update"), ("creator", "create"),
    ("deleter", "delete"), ("remover", "remove"), ("executor", "execute"), ("runner", "run"),
];

/// A name ending in an agent noun (`reader`, `updater`, `writer`) when no verb leads it:
/// the last word is the tool's action (`netlify-deploy-services-reader` reads deploys;
/// `deploy` is its object). Returns the tokens with that noun as its verb.
fn agent_noun_as_verb(mut tokens: Vec<String>) -> (Vec<String>, bool) {
    let leads_with_verb = tokens
        .first()
        .is_some_and(|t| name_token_verb(0, t).is_some());
    let verb = tokens.last().and_then(|last| {
        AGENT_NOUNS
            .iter()
            .find(|(noun, _)| noun == last)
            .map(|(_, verb)| *verb)
    });
    match (verb, tokens.last_mut()) {
        (Some(verb), Some(last)) if !leads_with_verb => {
            *last = verb.to_owned();
            (tokens, true)
        }
        _ => (tokens, false),
    }
}

/// Words that end a name's direct object (`add_card_to_list`).
#[rustfmt::skip]
const PREPOSITIONS: &[&str] = &[
    "to", "from", "for", "in", "on", "of", "with", "into", "by", "within", "inside", "at",
];

/// An object schema that declares its properties and allows no others
/// (`patch: {title, correspondent, tags}`, `additionalProperties: false`): the caller sets
/// some of a fixed set of fields, the write base, not a whole resource specification of
/// their own (round 12).
fn closed_fields(schema: &serde_json::Value) -> bool {
    let declared = schema
        .get("properties")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|properties| !properties.is_empty());
    declared && schema.get("additionalProperties") == Some(&serde_json::Value::Bool(false))
}

/// A `resource_type` argument that takes any type (a free string whose description gives
/// open examples: "e.g., pods, deployments, services, etc."): the tool works on any kind,
/// like an argument `kind`. A closed list (an `enum`, "dashboard, panel, or explore") is not.
fn open_resource_type(name: &str, schema: &serde_json::Value) -> bool {
    let joined = identifier_tokens(name).join("_");
    let description = schema
        .get("description")
        .and_then(serde_json::Value::as_str)
        .map(Words::new);
    ["resource_type", "resource_kind"].contains(&joined.as_str())
        && schema.get("enum").is_none()
        && description.is_some_and(|d| d.has_phrase("e g") || d.has_phrase("etc"))
}

/// Argument names for the type of record a generic record API works on.
const RECORD_TYPE_ARGUMENTS: &[&str] = &[
    "object_type",
    "object_types",
    "doctype",
    "table_name",
    // Round 13: QuickBooks' `entity` (Invoice, Customer, Bill...).
    "entity",
];

/// Phrases of an argument's description that list the types it takes: a closed set
/// ("Valid values include: companies, contacts, deals"), not the service's whole schema.
const LISTED_TYPES: &[&str] = &[
    "valid values",
    "standard types",
    "one of",
    "possible values",
];

/// An argument choosing the type of record from the service's own schema (`object_type`
/// "as 'app.model'", `doctype`, `table_name`), free-form with no list of the types it takes:
/// whatever the schema holds, accounts, role grants and server-side scripts included, is a
/// record of some type (round 12). A closed list (an `enum`, "Valid values include: ...") is
/// not.
fn open_record_type(name: &str, schema: &serde_json::Value) -> bool {
    let joined = identifier_tokens(name).join("_");
    let free = |value: &serde_json::Value| {
        value.get("type").and_then(serde_json::Value::as_str) == Some("string")
            && value.get("enum").is_none()
    };
    let strings = free(schema)
        || schema.get("items").is_some_and(free)
        || schema
            .get("anyOf")
            .and_then(serde_json::Value::as_array)
            .is_some_and(|options| {
                options
                    .iter()
                    .any(|option| free(option) || option.get("items").is_some_and(free))
            });
    let listed = schema
        .get("description")
        .and_then(serde_json::Value::as_str)
        .map(Words::new)
        .is_some_and(|d| d.first_phrase(LISTED_TYPES).is_some());
    RECORD_TYPE_ARGUMENTS.contains(&joined.as_str()) && strings && !listed
}

/// Nouns a generic record API names its records by.
const RECORD_NOUNS: &[&str] = &[
    "record",
    "records",
    "document",
    "documents",
    "object",
    "objects",
    "list",
];

/// Read verbs that return records themselves, not a type's schema or a count.
const RECORD_READING_VERBS: &[&str] = &[
    "get", "list", "search", "find", "fetch", "query", "read", "retrieve",
];

/// Read verbs that only ever lead a name (`get_refund` gets a refund).
#[rustfmt::skip]
const PLAIN_READ_VERBS: &[&str] = &[
    "get", "list", "read", "search", "find", "fetch", "show", "describe", "view", "query",
    "retrieve", "lookup", "count",
];

/// Read verbs that work out what a change would do without making it: what follows is the
/// change previewed (`preview_transaction_create`, `estimate_order_update`), not done.
#[rustfmt::skip]
const HYPOTHETICAL_VERBS: &[&str] = &["preview", "estimate"];

/// Languages whose name before `code` makes an argument code (`apexCode`, `python_code`).
#[rustfmt::skip]
const CODE_LANGUAGES: &[&str] = &[
    "apex", "js", "javascript", "typescript", "ts", "python", "py", "ruby", "lua", "bash", "sh",
    "shell", "node", "php", "perl", "groovy", "powershell", "java", "go", "rust", "c", "r",
];

fn own_description_says_sql(schema: &serde_json::Value) -> bool {
    schema
        .get("description")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|d| Words::new(d).as_slice().iter().any(|w| w == "sql"))
}

fn roles(name: &str, sql_context: bool) -> Vec<Role> {
    let tokens = identifier_tokens(name);
    let joined = tokens.join("_");
    let is = |names: &[&str]| names.contains(&joined.as_str());
    let last = tokens.last().map(String::as_str).unwrap_or("");
    let mut roles = Vec::new();
    let sql = tokens.iter().any(|t| t == "sql") || (sql_context && is(&["query", "statement"]));
    if sql {
        roles.extend([Role::Sql, Role::Code]);
    } else if is(&[
        "command",
        "cmd",
        "commands",
        "script",
        "code",
        "source_code",
        "js_code",
        "javascript",
        "js",
        "python",
        "shell",
        "entrypoint",
        "dockerfile",
        "expression",
    ]) || ["command", "commands", "script", "cmd"].contains(&last)
        // `apexCode`, `python_code`, `js_function`: code in a named language; `function`
        // alone is the function body an evaluator runs.
        || is(&["function"])
        || (tokens.len() > 1
            && ["code", "function", "source"].contains(&last)
            && CODE_LANGUAGES.contains(&tokens[0].as_str()))
        || (tokens.iter().any(|t| t == "script")
            && ["content", "body", "source", "code", "text"].contains(&last))
    {
        roles.push(Role::Code);
    }
    if is(&["image", "image_ref", "container_image"]) {
        roles.push(Role::Image);
    }
    if tokens
        .iter()
        .any(|t| ["yaml", "manifest", "dockerfile"].contains(&t.as_str()))
        || is(&["patch", "spec", "template", "manifest"])
        // `patchData`, `patch_file`: the patch body itself (round 5).
        || (tokens.len() == 2
            && tokens[0] == "patch"
            && ["data", "file", "body", "content", "json", "document"].contains(&last))
    {
        roles.push(Role::Spec);
    }
    let service_url = tokens.len() > 1
        && !tokens[..tokens.len() - 1]
            .iter()
            .any(|t| TARGET_URL_QUALIFIERS.contains(&t.as_str()));
    if ["url", "uri", "urls", "uris", "href", "endpoint", "webhook"].contains(&last) && !service_url
    {
        roles.push(Role::Url);
    }
    if is(&[
        "to",
        "recipient",
        "recipients",
        "cc",
        "bcc",
        "email",
        "emails",
        "email_address",
        "to_email",
        "to_address",
        "phone",
        "phone_number",
    ]) {
        roles.push(Role::Destination);
    }
    if is(&[
        "channel",
        "channel_id",
        "channel_name",
        "thread_ts",
        "thread_id",
        "conversation_id",
        "chat_id",
        "room",
        "room_id",
    ]) {
        roles.push(Role::Channel);
    }
    if is(&[
        "password",
        "passwd",
        "passphrase",
        "token",
        "access_token",
        "auth_token",
        "api_token",
        "bearer_token",
        "refresh_token",
        "session_token",
        "api_key",
        "apikey",
        "secret",
        "client_secret",
        "secret_key",
        "private_key",
        "access_key",
        "secret_access_key",
        "credentials",
        "credential",
    ]) {
        roles.push(Role::Credential);
    }
    if is(&[
        "decode",
        "reveal",
        "show_values",
        "include_values",
        "show_value",
        "include_value",
        "decrypt",
        "with_decryption",
        "plaintext",
        "show_secret",
        "show_secrets",
        "unmask",
        "include_secret",
        "include_secrets",
    ]) || ["reveal", "unmask", "decrypt"].contains(&tokens.first().map_or("", String::as_str))
    {
        // `reveal_env`, `unmask_fields`: a switch whose verb shows what is masked (round 10).
        roles.push(Role::Reveal);
    }
    if crate::lexicon::LOCAL_SAVE_ARGUMENTS.contains(&joined.as_str()) {
        roles.push(Role::LocalSave);
    }
    if is(&[
        "file_path",
        "file_paths",
        "filepath",
        "paths",
        "local_file",
        "local_file_path",
    ]) {
        roles.push(Role::LocalFile);
    }
    if is(&["kind"]) {
        roles.push(Role::Kind);
    }
    if is(&["kind", "resource_type", "resource_kind"]) {
        roles.push(Role::GenericTarget);
    }
    roles
}
