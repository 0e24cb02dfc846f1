//! What every modern result carries besides its body: `resultType`, the server's
//! identity in `_meta`, and, for cacheable results, `ttlMs` and `cacheScope`.

use serde_json::json;

use crate::server::AppState;

pub(crate) const SERVER_INFO_KEY: &str = "io.modelcontextprotocol/serverInfo";

/// `resultType` values (SPEC basic/index.mdx; `task` from the tasks extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResultType {
    Complete,
    InputRequired,
    Task,
}

impl ResultType {
    fn as_str(self) -> &'static str {
        match self {
            ResultType::Complete => "complete",
            ResultType::InputRequired => "input_required",
            ResultType::Task => "task",
        }
    }
}

/// A complete result that is not cached (calls, prompts, acks).
pub(crate) fn complete(state: &AppState, body: String) -> String {
    stamp(state, &body, ResultType::Complete, false)
}

/// A complete result of `server/discover`, a list or `resources/read` (caching.mdx:
/// `ttlMs` and `cacheScope` are required on those).
pub(crate) fn cacheable(state: &AppState, body: String) -> String {
    stamp(state, &body, ResultType::Complete, true)
}

/// `body` is a JSON object we wrote, without the keys added here.
pub(crate) fn stamp(state: &AppState, body: &str, kind: ResultType, cacheable: bool) -> String {
    let settings = &state.settings;
    let mut fields = format!(r#""resultType":"{}""#, kind.as_str());
    if cacheable {
        fields.push_str(&format!(
            r#","ttlMs":{},"cacheScope":"{}""#,
            settings.cache_ttl.as_millis(),
            settings.cache_scope.as_str()
        ));
    }
    let meta = json!({ SERVER_INFO_KEY: {
        "name": settings.server_name, "version": settings.server_version } });
    fields.push_str(&format!(r#","_meta":{meta}"#));
    let inner = body
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .expect("result bodies are JSON objects")
        .trim();
    if inner.is_empty() {
        format!("{{{fields}}}")
    } else {
        format!("{{{inner},{fields}}}")
    }
}
