//! The OpenAPI document cannot drift: the committed `docs/openapi.json` is what
//! the code generates, every route the router registers is documented (and
//! nothing else is), every reference resolves, and both docs routes are served.
//!
//! Regenerate the committed copy with `UPDATE_OPENAPI=1 cargo test -p mcpgate-api openapi`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn committed_path() -> PathBuf {
    crate_dir().join("../../docs/openapi.json")
}

/// `(method, path)` of every operation in the document.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let paths = document["paths"]
        .as_object()
        .expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(move |method| (method.to_string(), path.clone()))
        })
        .collect()
}

/// `(method, path)` of every REST route, from the route table the application's
/// router is built from (`mcpgate_api::access::route_table`).
fn registered_routes() -> BTreeSet<(String, String)> {
    mcpgate_api::access::route_table()
        .into_iter()
        .filter(|route| !route.dashboard)
        .map(|route| (route.method.to_lowercase(), route.path))
        .collect()
}

#[test]
fn committed_openapi_json_is_what_the_code_generates() {
    let generated = mcpgate_api::openapi::to_json();
    let path = committed_path();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("docs/openapi.json is writable");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json differs from the document the code generates; regenerate it with \
         `UPDATE_OPENAPI=1 cargo test -p mcpgate-api openapi` and commit it"
    );
}

#[test]
fn every_registered_route_is_in_the_openapi_document_and_nothing_else() {
    let documented = documented_operations(&mcpgate_api::openapi::document_json());
    let registered = registered_routes();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty(),
        "routes without a #[utoipa::path] listed in their module's `Api`: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "documented operations no router registers: {unrouted:?}"
    );
    assert!(registered.len() >= 28, "found only {registered:?}");
}

#[test]
fn every_openapi_operation_has_a_unique_id_a_known_tag_and_a_summary() {
    let document = mcpgate_api::openapi::document_json();
    let tags: BTreeSet<&str> = document["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|tag| tag["name"].as_str())
        .collect();
    // Public is what the route table says (sign-up, the docs, OAuth and SSO redirects).
    let public_routes: BTreeSet<(String, String)> = mcpgate_api::access::route_table()
        .into_iter()
        .filter(|route| !route.dashboard && route.access == mcpgate_api::access::Access::Public)
        .map(|route| (route.method.to_lowercase(), route.path))
        .collect();
    assert!(
        public_routes.contains(&("post".to_owned(), "/api/v1/signup".to_owned())),
        "precondition: sign-up is a public route"
    );
    let mut ids = BTreeSet::new();
    for (method, path) in documented_operations(&document) {
        let operation = &document["paths"][&path][&method];
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            ids.insert(id.to_owned()),
            "{method} {path}: operationId `{id}` is taken"
        );
        let tag = operation["tags"][0].as_str().unwrap_or_default();
        assert!(tags.contains(tag), "{method} {path}: unknown tag `{tag}`");
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path} has no summary"
        );
        let public = public_routes.contains(&(method.clone(), path.clone()));
        let secured = operation["security"][0].get("api_key").is_some();
        assert_eq!(
            secured, !public,
            "{method} {path}: documented with an API key exactly when the route table does not \
             register it as Access::Public"
        );
    }
}

#[test]
fn every_openapi_reference_resolves() {
    fn check(document: &Value, value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    let pointer = target.strip_prefix('#').unwrap_or(target);
                    assert!(
                        document.pointer(pointer).is_some(),
                        "{at}: `$ref` {target} resolves to nothing"
                    );
                }
                for (key, child) in map {
                    check(document, child, &format!("{at}/{key}"));
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    check(document, child, &format!("{at}/{index}"));
                }
            }
            _ => {}
        }
    }
    let document = mcpgate_api::openapi::document_json();
    check(&document, &document, "");
}

#[tokio::test]
async fn openapi_json_and_docs_page_are_served_without_an_api_key() {
    let app = mcpgate_testkit::spawn_app().await;

    let response = app
        .client
        .get(app.api_url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("GET openapi.json");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let served = response.text().await.expect("a body");
    assert_eq!(served, mcpgate_api::openapi::to_json());

    let response = app
        .client
        .get(app.api_url("/api/v1/docs"))
        .send()
        .await
        .expect("GET docs");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .is_ok_and(|v| v.starts_with("text/html")));
    let page = response.text().await.expect("a body");
    for expected in [
        "post</span> <code>/api/v1/servers</code>",
        "id=\"schema-ErrorBody\"",
        "id=\"op-put_policy\"",
    ] {
        assert!(page.contains(expected), "the page lacks {expected}");
    }
    assert!(
        !page.contains("<script") && !page.contains("src=\"http"),
        "the page must load nothing from elsewhere"
    );
}
