//! The word lists the classifier matches against. All lowercase, whole words.
//!
//! Category words first, then the words the risk derivation looks for.
//! Kept as data so the rules read as prose and the documentation can quote
//! them; `docs/classification.md` explains how each list is used.

use mcpgate_policy::Category;

#[rustfmt::skip]
const READ_VERBS: &[&str] = &[
    "get", "list", "read", "describe", "show", "search", "find", "query", "view", "inspect", "top",
    "diagnose", "check", "count", "lookup", "look", "stat", "explain", "preview", "diff", "display",
    "retrieve", "summarize", "summarise", "analyze", "analyse", "audit", "scan", "validate",
    "verify", "compare", "tail", "head", "cat", "ls", "grep", "whoami", "fetch", "return", "print",
    "monitor", "poll", "watch", "peek", "estimate", "calculate", "suggest", "recommend", "render",
    "screenshot", "capture", "measure", "browse", "explore", "discover", "test", "lint", "parse",
    "translate", "echo", "dump", "tree", "convert", "geocode", "generate", "embed", "transcribe",
    "download", "extract", "ask", "detect",
];

#[rustfmt::skip]
const WRITE_VERBS: &[&str] = &[
    "create", "add", "update", "set", "edit", "patch", "apply", "put", "write", "insert", "upsert",
    "modify", "change", "assign", "unassign", "enable", "disable", "configure", "label", "annotate",
    "tag", "untag", "scale", "autoscale", "cordon", "uncordon", "taint", "untaint", "stop", "pause",
    "resume", "restart", "reboot", "undo", "rollback", "revert", "expose", "attach", "detach",
    "mark", "schedule", "unschedule", "archive", "unarchive", "close", "reopen", "lock", "unlock",
    "save", "store", "replace", "append", "register", "unregister", "deregister", "rename", "move",
    "mv", "copy", "cp", "duplicate", "fork", "merge", "commit", "star", "unstar", "follow",
    "unfollow", "react", "comment", "approve", "reject", "dismiss", "install", "upgrade",
    "downgrade", "migrate", "init", "initialize", "import", "sync", "refresh", "submit", "click",
    "fill", "type", "press", "hover", "drag", "select", "scroll", "toggle", "increment",
    "decrement", "allocate", "provision", "transfer", "refund", "charge", "pay", "cancel", "mkdir",
    "touch", "overwrite", "make", "new", "open", "complete", "finish", "suspend", "unsuspend",
    "promote", "demote", "pin", "unpin", "mute", "unmute", "invite", "link", "unlink", "clone",
    "favourite", "favorite", "bookmark", "vote", "block", "unblock",
    "checkout", "rebase", "cherry", "stage", "unstage", "reset", "draft", "resize", "handle",
    "emulate", "protect", "unprotect", "resolve", "unresolve", "unapprove", "disconnect",
    "reconnect", "transition", "snooze", "silence", "suppress",
];

#[rustfmt::skip]
const DESTRUCTIVE_VERBS: &[&str] = &[
    "delete", "remove", "rm", "rmdir", "drop", "destroy", "purge", "truncate", "wipe", "erase",
    "kill", "terminate", "evict", "drain", "prune", "uninstall", "clear", "flush", "shred",
    "teardown", "nuke", "expunge", "discard", "empty", "deprovision", "decommission", "cleanup",
    "del", "unset",
];

#[rustfmt::skip]
const EXECUTE_VERBS: &[&str] = &[
    "run", "exec", "execute", "eval", "evaluate", "invoke", "spawn", "launch", "build", "start",
    "shell", "sh", "bash", "compile", "interpret", "trigger", "dispatch", "deploy", "call", "rerun",
    "repl",
];

#[rustfmt::skip]
const CREDENTIAL_VERBS: &[&str] = &[
    "login", "logout", "authenticate", "authorize", "impersonate", "assume", "decrypt", "rotate",
    "reveal", "unseal", "mint", "revoke", "sign",
];

#[rustfmt::skip]
const NETWORK_VERBS: &[&str] = &[
    "send", "post", "publish", "notify", "email", "mail", "sms", "tweet", "broadcast", "push",
    "pull", "upload", "navigate", "visit", "goto", "crawl", "scrape", "http", "curl",
    "wget", "ping", "connect", "forward", "reply", "share", "dm", "message", "webhook",
    // Re-publishing someone's post under the account, to its followers (round 11).
    "reblog", "repost", "retweet", "reshare", "boost",
];

/// The category a verb names, if it is one the classifier knows. Also tries
/// the verb without a third-person ending (`lists`, `fetches`, `applies`).
pub(crate) fn verb_category(word: &str) -> Option<Category> {
    let direct = |w: &str| -> Option<Category> {
        let lists: [(&[&str], Category); 6] = [
            (READ_VERBS, Category::Read),
            (WRITE_VERBS, Category::Write),
            (DESTRUCTIVE_VERBS, Category::Destructive),
            (EXECUTE_VERBS, Category::Execute),
            (CREDENTIAL_VERBS, Category::Credential),
            (NETWORK_VERBS, Category::Network),
        ];
        lists
            .iter()
            .find(|(list, _)| list.contains(&w))
            .map(|(_, category)| *category)
    };
    direct(word)
        .or_else(|| {
            word.strip_suffix("ies")
                .and_then(|w| direct(&format!("{w}y")))
        })
        .or_else(|| word.strip_suffix("es").and_then(direct))
        .or_else(|| word.strip_suffix('s').and_then(direct))
        .or_else(|| redone(word).and_then(direct))
}

/// The verb a `re-` verb repeats (`reschedule`, `reassign`, `redeploy`), when the word is
/// not a verb of its own. `review` looks at something; it does not view it again.
fn redone(word: &str) -> Option<&str> {
    word.strip_prefix("re")
        .filter(|rest| rest.len() >= 4 && !["view", "views"].contains(rest))
}

/// The category of a verb spelled exactly as listed (no third-person ending removed).
/// Name tokens after the first are read this way: `console_messages` names messages.
pub(crate) fn exact_verb_category(word: &str) -> Option<Category> {
    verb_category(word).filter(|_| {
        [
            READ_VERBS,
            WRITE_VERBS,
            DESTRUCTIVE_VERBS,
            EXECUTE_VERBS,
            CREDENTIAL_VERBS,
            NETWORK_VERBS,
        ]
        .iter()
        .any(|list| list.contains(&word))
    })
}

/// Verbs that read something and become network calls when the thing is a URL.
#[rustfmt::skip]
pub(crate) const RETRIEVAL_VERBS: &[&str] = &[
    "fetch", "get", "read", "retrieve", "open", "load", "browse", "check", "query", "extract",
];

/// Nouns in a name that say the tool only reports on something.
#[rustfmt::skip]
pub(crate) const READ_NOUNS: &[&str] = &[
    "info", "information", "status", "history", "logs", "log", "tree", "details", "detail",
    "metrics", "stats", "statistics", "usage", "health", "version", "summary", "contents", "schema",
    "apis", "events", "screenshot", "snapshot", "report", "overview",
];

/// Nouns in a name that say the tool runs something.
#[rustfmt::skip]
pub(crate) const EXECUTE_NOUNS: &[&str] = &[
    "command", "shell", "script", "terminal", "sql", "cmd",
];

/// Nouns in a name that say the tool talks to other hosts or people.
#[rustfmt::skip]
pub(crate) const NETWORK_NOUNS: &[&str] = &[
    "email", "mail", "webhook", "http", "url", "sms", "notification", "internet", "web",
];

/// Nouns in a name that say the tool handles secrets or identities.
#[rustfmt::skip]
pub(crate) const CREDENTIAL_NOUNS: &[&str] = &[
    "secret", "secrets", "token", "tokens", "password", "passwords", "passwd", "credential",
    "credentials", "creds", "apikey", "apikeys", "passphrase", "jwt", "oauth", "otp", "mfa", "totp",
    "keypair", "vault",
];

/// Words that turn a following `key`/`keys` into a credential (`api_key`, `ssh_keys`).
#[rustfmt::skip]
pub(crate) const KEY_QUALIFIERS: &[&str] = &[
    "api", "access", "ssh", "private", "secret", "signing", "encryption", "deploy", "gpg", "pgp",
    "kms",
];

/// Destruction that reaches past the named object.
#[rustfmt::skip]
pub(crate) const CASCADE_PHRASES: &[&str] = &[
    "and all", "all resources", "all of its", "all its", "everything", "entire", "all data",
    "recursively delete", "cascade", "cascading",
    // Round 11: "delete all associated data", "hosts ... will lose those template's items".
    "all associated", "will lose",
];
/// Objects whose loss takes a whole system with it.
#[rustfmt::skip]
pub(crate) const CRITICAL_TARGETS: &[&str] = &[
    "namespace", "namespaces", "ns", "cluster", "clusters", "database", "databases", "db",
    "project", "projects", "account", "accounts", "organization", "org", "tenant", "repository",
    "repo",
];
/// Objects that are cheap to recreate (an image is pulled again, a network re-made).
#[rustfmt::skip]
pub(crate) const RECREATABLE_TARGETS: &[&str] = &[
    "image", "images", "network", "networks", "tag", "tags", "label", "labels", "cache", "alias",
    "comment", "comments", "reaction", "reactions", "draft", "session", "bookmark", "note", "link",
    "alarm", "message", "category", "webhook", "binding", "var", "variable", "route", "cron",
    "filter", "domain", "watcher", "annotation", "emoji", "award", "snapshot", "status",
    "index", "indexes",
    // Round 11: leaves re-made in a call (a subnet, a URL forward, a menu, a maintenance
    // window, an SSH public key, a queued event, a worklog, a segment, a relation, a summary, a
    // notification, a membership).
    "subnet", "subnets", "forward", "forwards", "menu", "menus", "maintenance", "ssh", "queued",
    "worklog", "worklogs", "segment", "segments", "relation", "relations", "summary",
    "notification", "notifications", "member", "members",
    // Round 12: more leaves one call re-makes (a static mapping, a time or list entry, an
    // objective's key result, a document's correspondent label).
    "mapping", "mappings", "entry", "entries", "result", "results", "correspondent",
    "correspondents",
    // Round 16: a document's decorations, re-added in a call (a sparkline, a slicer, a
    // footnote or endnote).
    "sparkline", "sparklines", "slicer", "slicers", "footnote", "footnotes", "endnote", "endnotes",
];
/// Empty containers: creating one adds nothing anyone depends on yet.
#[rustfmt::skip]
pub(crate) const ADDITIVE_TARGETS: &[&str] = &[
    "directory", "directories", "folder", "folders", "dir", "volume", "volumes", "network",
    "networks", "branch", "bookmark", "label", "reaction", "reactions", "emoji", "star", "favorite",
    "bucket", "queue", "category", "channel", "collection", "team", "group", "repository", "repo",
    "project", "database", "namespace", "link", "draft", "sprint", "session", "tab", "board",
    "boards", "checklist", "checklists", "section", "sections", "table", "tables", "field",
    "fields", "tag", "tags", "version", "versions", "list", "lists", "index", "indexes", "column",
    "columns", "watcher", "watchers", "dependency", "dependencies", "dependents", "attachment",
    "attachments", "workspace", "workspaces", "dashboard", "dashboards", "view", "views", "widget",
    "widgets", "spreadsheet", "spreadsheets", "sheet", "sheets", "chart", "charts",
    // Round 12: a named label documents are filed under, and a report generated from data.
    "correspondent", "correspondents", "report", "reports",
];
/// Permissions and money: changes here are hard to take back.
#[rustfmt::skip]
pub(crate) const PRIVILEGE_OR_MONEY: &[&str] = &[
    "role", "roles", "rolebinding", "clusterrole", "clusterrolebinding", "permission",
    "permissions", "policy", "policies", "iam", "acl", "collaborator", "collaborators", "member",
    "members", "admin", "grant", "grants", "access", "refund", "refunds", "payout", "payouts",
    "transfer", "transfers", "charge", "charges", "subscription", "subscriptions", "dispute",
    "disputes", "payment", "payments", "billing", "protection", "restriction", "restrictions",
    "sharing", "journal", "journals", "ledger", "transaction", "transactions",
];
/// What a service runs once written: code uploaded under a name (`write_apex`,
/// `workflow_update`, `install_plugin`) is execute, even with a write verb.
#[rustfmt::skip]
pub(crate) const CODE_ARTIFACTS: &[&str] = &[
    "apex", "script", "scripts", "function", "functions", "lambda", "worker", "workers", "plugin",
    "plugins", "extension", "extensions", "trigger", "triggers", "workflow", "workflows", "macro",
    "macros", "addon", "addons", "chart", "charts", "package", "packages",
];
/// Configuration that everything else of a system reads: changing one changes how every
/// member's work behaves (`update_project`, `update_datasource`, `wrangler_config_update`).
#[rustfmt::skip]
pub(crate) const SHARED_CONFIGURATION: &[&str] = &[
    "project", "datasource", "datasources", "dashboard", "config", "configuration", "property",
    "schema",
];
/// Verbs whose write decides what ships or who may change it (merging, approving,
/// protecting a branch, rolling a deployment back).
#[rustfmt::skip]
pub(crate) const GATE_VERBS: &[&str] = &[
    "merge", "approve", "protect", "unprotect", "rollback",
];
/// Verbs that flip a reversible flag (done, resolved, starred) without changing content.
#[rustfmt::skip]
pub(crate) const TOGGLE_VERBS: &[&str] = &[
    "mark", "resolve", "unresolve", "star", "unstar", "pin", "unpin", "follow", "unfollow",
    "mute", "unmute", "watch", "unwatch", "favourite", "favorite", "bookmark", "unblock",
];
/// What closing or disconnecting ends without loss: the caller's own session.
#[rustfmt::skip]
pub(crate) const SESSION_TARGETS: &[&str] = &[
    "browser", "session", "sessions", "connection", "tab", "tabs", "page", "pages", "port", "forward",
    "forwarding", "interact", "interaction",
];

/// Objects through which live traffic flows: changing them redirects it.
#[rustfmt::skip]
pub(crate) const TRAFFIC_TARGETS: &[&str] = &[
    "route", "routes", "domain", "domains", "dns", "hostname", "hostnames",
];
/// Objects inside the system that outbound verbs only move along (`publish_draft_note`,
/// `queue_send_message`): the data stays in the tenant's own service.
#[rustfmt::skip]
pub(crate) const INTERNAL_TARGETS: &[&str] = &[
    "note", "notes", "draft", "drafts", "queue", "queues", "review", "reviews", "attachment",
    "attachments", "comment", "comments",
];
/// Git objects: pushing them writes the tenant's own repository.
#[rustfmt::skip]
pub(crate) const COMMIT_TARGETS: &[&str] = &[
    "file", "files", "commit", "commits", "changes",
];
/// Objects whose cancellation cannot be taken back (money and contracts).
#[rustfmt::skip]
pub(crate) const BINDING_TARGETS: &[&str] = &[
    "subscription", "subscriptions", "invoice", "invoices", "order", "orders", "payment",
    "payments", "contract", "contracts",
];
/// Description phrases that say a tool reads the open web.
#[rustfmt::skip]
pub(crate) const OPEN_WEB_PHRASES: &[&str] = &[
    "search the web", "searches the web", "web search", "web searches", "the internet",
    "search engine", "web pages", "webpages", "websites", "from the web", "across the web",
];
/// Argument names that save a result on the server's own disk.
#[rustfmt::skip]
pub(crate) const LOCAL_SAVE_ARGUMENTS: &[&str] = &[
    "save_path", "local_path", "output_path", "download_path", "destination_path", "save_to",
    "output_dir", "output_directory", "save_dir", "target_path",
];
/// Verbs that run whatever the caller passes, inside something already running.
#[rustfmt::skip]
pub(crate) const EXEC_TOKENS: &[&str] = &[
    "exec", "execute", "eval", "evaluate", "shell", "bash", "sh", "terminal", "cmd", "command",
    "script", "repl", "python", "javascript", "code",
];
#[rustfmt::skip]
pub(crate) const EXEC_PHRASES: &[&str] = &[
    "execute a command", "executes a command", "execute commands", "shell command",
    "arbitrary command", "arbitrary commands", "arbitrary code", "execute code",
    "execute javascript", "execute arbitrary", "executes arbitrary",
];
/// Verbs that send data out rather than bring it in.
#[rustfmt::skip]
pub(crate) const OUTBOUND_VERBS: &[&str] = &[
    "push", "upload", "send", "post", "publish", "email", "mail", "sms", "notify", "share",
    "forward", "broadcast", "tweet", "reply", "dm", "message", "webhook", "reblog", "repost",
    "retweet", "reshare", "boost",
];
