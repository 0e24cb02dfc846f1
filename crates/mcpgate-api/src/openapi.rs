//! The REST API's OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` annotations and the types they take and return, and a
//! self-contained page that renders it. Both are served without authentication
//! at `/api/v1/openapi.json` and `/api/v1/docs`; `docs/openapi.json` is the
//! committed copy, kept equal by a test.

mod html;
pub(crate) mod schemas;

use std::sync::LazyLock;

use axum::http::header;
use axum::response::{Html, IntoResponse};
use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use schemas::{
    BadRequest, Forbidden, Internal, Invalid, NotFound, PayloadTooLarge, Unauthorized,
    UpstreamFailed, UpstreamTimeout, POLICY_DOCUMENT_DESCRIPTION,
};

/// The name operations use to require an API key.
pub(crate) const API_KEY: &str = "api_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mcpgate",
        description = "The control plane of mcpgate, a multi-tenant MCP gateway: sign up, \
            register upstream MCP servers and review their tools, write policies, issue grants \
            (agents' credentials), decide held calls and read the audit log.\n\n\
            Every route but sign-up and these docs needs `Authorization: Bearer <api key>`. \
            Errors are `{\"error\": {\"code\", \"message\", \"details\"?}}`.\n\n\
            Every API key has a role (`admin`, `policy_manager`, `approver`, `viewer`); each \
            operation names the permission it requires in `x-mcpgate-permission` and the roles \
            holding it in `x-mcpgate-roles`, and answers 403 `role_forbidden` to any other role."
    ),
    paths(openapi_json, docs),
    components(responses(
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Invalid,
        PayloadTooLarge,
        Internal,
        UpstreamFailed,
        UpstreamTimeout
    )),
    modifiers(&ApiKeySecurity),
    tags(
        (name = "signup", description = "A new account: tenant, owner and a first API key."),
        (name = "api-keys", description = "The keys this REST API is called with."),
        (name = "servers", description = "Upstream MCP servers, their discovery and their tools."),
        (name = "upstream-oauth", description = "Connecting OAuth-protected upstreams: mcpgate as their OAuth client."),
        (name = "policies", description = "Each server's policy: versions, rollback, simulation, a recommendation."),
        (name = "grants", description = "Agents' credentials for the proxy, scoped to servers, optionally with a policy of their own."),
        (name = "approvals", description = "Calls a policy held for a person's decision."),
        (name = "audit", description = "Every decision the proxies made."),
        (name = "members", description = "The people in the tenant, their roles, and invitations."),
        (name = "sso", description = "Single sign-on with the tenant's OpenID Connect provider."),
        (name = "admin-audit", description = "Every change made to the tenant's configuration: who, when, from where, what."),
        (name = "docs", description = "This document and the page that renders it."),
    )
)]
struct ApiDoc;

/// Declares the `api_key` bearer scheme the operations refer to.
#[derive(Debug)]
struct ApiKeySecurity;

impl Modify for ApiKeySecurity {
    fn modify(&self, openapi: &mut Document) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("mcpg_…")
            .description(Some(
                "An mcpgate API key (`mcpg_…`), sent as `Authorization: Bearer <key>`. \
                 `POST /api/v1/signup` returns the first one; `POST /api/v1/api-keys` makes more.",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(API_KEY, SecurityScheme::Http(scheme));
    }
}

/// The generated document: every annotated route, its types and the security scheme.
pub fn document() -> Document {
    let mut document = ApiDoc::openapi();
    document.merge(crate::routes::openapi());
    add_common_responses(&mut document);
    document
}

/// Answers every operation can give, added here once rather than on each handler:
/// 401 wherever an API key is required, 500 everywhere.
fn add_common_responses(document: &mut Document) {
    let reference = |name: &str| RefOr::Ref(Ref::from_response_name(name));
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let responses = &mut operation.responses.responses;
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                responses.insert("401".into(), reference("Unauthorized"));
            }
            responses.insert("500".into(), reference("Internal"));
        }
    }
}

/// The document as served: [`document`] as JSON, with the policy language's own
/// JSON Schema embedded as `PolicyDocument`.
pub fn document_json() -> Value {
    let mut value = serde_json::to_value(document()).expect("an OpenAPI document serialises");
    value["components"]["schemas"]["PolicyDocument"] = policy_schema();
    add_permissions(&mut value);
    value
}

/// Each operation's permission and roles, from the route table the router is built
/// from, with the 403 every role without it gets.
fn add_permissions(document: &mut Value) {
    for route in crate::access::route_table() {
        let crate::access::Access::Requires(permission) = route.access else {
            continue;
        };
        let method = route.method.to_lowercase();
        let Some(operation) = document["paths"]
            .get_mut(&route.path)
            .and_then(|item| item.get_mut(&method))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        operation.insert("x-mcpgate-permission".into(), json!(permission.as_str()));
        operation.insert("x-mcpgate-roles".into(), json!(permission.roles()));
        if let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        {
            responses.insert(
                "403".into(),
                json!({"$ref": "#/components/responses/Forbidden"}),
            );
        }
    }
}

/// [`document_json`] pretty-printed, as committed in `docs/openapi.json`.
pub fn to_json() -> String {
    let mut text = serde_json::to_string_pretty(&document_json()).expect("JSON serialises");
    text.push('\n');
    text
}

/// `mcpgate_policy::json_schema()` as an OpenAPI 3.1 schema: its `$defs` stay inside
/// it, so their references are rewritten to point there from the document's root.
fn policy_schema() -> Value {
    const AT: &str = "#/components/schemas/PolicyDocument/$defs/";
    fn rewrite(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get_mut("$ref") {
                    if let Some(name) = target.strip_prefix("#/$defs/") {
                        *target = format!("{AT}{name}");
                    }
                }
                map.values_mut().for_each(rewrite);
            }
            Value::Array(items) => items.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    let mut schema = mcpgate_policy::json_schema();
    rewrite(&mut schema);
    if let Value::Object(map) = &mut schema {
        // The document states its dialect once (OpenAPI 3.1 is JSON Schema 2020-12).
        map.remove("$schema");
        map.insert("description".into(), json!(POLICY_DOCUMENT_DESCRIPTION));
    }
    schema
}

static JSON: LazyLock<String> = LazyLock::new(to_json);
static PAGE: LazyLock<String> = LazyLock::new(|| html::render(&document_json()));

/// The OpenAPI document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "docs",
    operation_id = "openapi_json",
    summary = "This API's OpenAPI 3.1 document",
    responses((status = 200, description = "The document", content_type = "application/json", body = Object))
)]
pub(crate) async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], JSON.as_str())
}

/// The document as a page.
#[utoipa::path(
    get,
    path = "/api/v1/docs",
    tag = "docs",
    operation_id = "docs",
    summary = "This API's reference, as one self-contained HTML page",
    responses((status = 200, description = "The page", content_type = "text/html", body = String))
)]
pub(crate) async fn docs() -> Html<&'static str> {
    Html(PAGE.as_str())
}
