//! Servers and their tools: `/servers`, `/servers/{id}`, `/servers/{id}/sync`,
//! `/servers/{id}/tools`, `/servers/{id}/tools/{name}/approve`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use mcpgate_store::classifications::ClassificationOverride;
use mcpgate_store::servers::{self, Server, SyncReport, Tool};
use mcpgate_store::ServerId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Permission, Routes};
use crate::domain::classification::needs_review;
use crate::domain::servers::{self as domain, RegisterServer, UpdateServer};
use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::openapi::schemas::{
    BadRequest, ErrorBody, NotFound, PayloadTooLarge, UpstreamFailed, UpstreamTimeout,
};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/servers", Permission::ViewServers, list)
        .post("/servers", Permission::ManageServers, register)
        .get("/servers/{id}", Permission::ViewServers, show)
        .patch("/servers/{id}", Permission::ManageServers, update)
        .delete("/servers/{id}", Permission::ManageServers, remove)
        .post("/servers/{id}/sync", Permission::ManageServers, sync)
        .get("/servers/{id}/tools", Permission::ViewServers, tools)
        .post(
            "/servers/{id}/tools/{name}/approve",
            Permission::ManageServers,
            approve_tool,
        )
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, list, show, update, remove, sync, tools, approve_tool))]
pub(super) struct Api;

/// A server as the API shows it: never its credentials, always its proxy URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServerView {
    #[serde(flatten)]
    server: Server,
    /// Where agents reach this server through mcpgate.
    proxy_url: String,
}

impl ServerView {
    fn new(state: &AppState, server: Server) -> Self {
        Self {
            proxy_url: state.urls.proxy_url(server.id),
            server,
        }
    }
}

/// A tool as the API shows it, with its approval state spelled out. `category`
/// and `risk` are the tenant's override when there is one, else the classifier's.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolView {
    #[serde(flatten)]
    tool: Tool,
    /// The definition differs from the approved one.
    changed_since_approval: bool,
    /// The classifier's own verdict, whatever an override says.
    classified_as: ClassifiedAs,
    /// The tenant's correction, if any (`PUT .../classification`).
    #[serde(rename = "override")]
    classification_override: Option<ClassificationOverride>,
    /// Review this: the classifier is unsure (`confidence` low) and nobody
    /// corrected it, or the override was made against an earlier definition.
    review: bool,
}

/// The classifier's category and risk for a tool.
#[derive(Debug, Serialize, ToSchema)]
struct ClassifiedAs {
    category: String,
    risk: String,
}

impl From<Tool> for ToolView {
    fn from(tool: Tool) -> Self {
        Self {
            changed_since_approval: tool.approved_fingerprint.as_deref()
                != Some(tool.fingerprint.as_str()),
            classified_as: ClassifiedAs {
                category: tool.classifier_category.clone(),
                risk: tool.classifier_risk.clone(),
            },
            classification_override: tool.classification_override(),
            review: needs_review(&tool),
            tool,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RegisterServer)]
struct RegisterBody {
    /// Unique in the account; at most 100 characters.
    name: String,
    /// The upstream's MCP endpoint (Streamable HTTP, or legacy HTTP+SSE).
    url: String,
    /// Headers sent to the upstream (e.g. its credentials); stored sealed, never shown again.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The server authenticates with OAuth: registered as `needs_connect` (then
    /// `POST /servers/{id}/oauth/connect`). A server that answers 401 with a `Bearer`
    /// challenge, registered without headers, is taken as OAuth without this.
    oauth: Option<crate::routes::upstream_oauth::OAuthBody>,
}

/// A registered server with the tools discovery found.
#[derive(Debug, Serialize, ToSchema)]
struct RegisteredServer {
    #[serde(flatten)]
    server: ServerView,
    tools: Vec<ToolView>,
}

/// The account's servers.
#[derive(Debug, Serialize, ToSchema)]
struct ServerList {
    servers: Vec<ServerView>,
}

/// A server's tools, removed ones included (`removed_at` set).
#[derive(Debug, Serialize, ToSchema)]
struct ToolList {
    tools: Vec<ToolView>,
}

/// What a sync changed.
#[derive(Debug, Serialize, ToSchema)]
struct SyncAnswer {
    sync: SyncReport,
}

#[utoipa::path(
    post,
    path = "/api/v1/servers",
    tag = "servers",
    operation_id = "register_server",
    summary = "Register an upstream MCP server",
    description = "Discovers the server (a 2026-07-28 `server/discover` probe, then every \
        `tools/list` page as modern requests; or, for a server that does not list 2026-07-28, \
        `initialize` and the pages over a session, or legacy HTTP+SSE), classifies each tool and \
        stores server and tools; `protocol_version` records the era (`2026-07-28` for modern). \
        The address must pass the SSRF guard.",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The server and its tools", body = RegisteredServer),
        (status = 400, response = BadRequest),
        (status = 409, description = "You already have a server with this name (`server_name_taken`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "Invalid fields (`validation_failed`), or the upstream is refused, \
            not MCP or refuses our credentials (`upstream_address_refused`, `upstream_not_mcp`, \
            `upstream_unauthorized`), or supports no MCP version mcpgate speaks \
            (`upstream_version_unsupported`, its versions in `details.supported`), or the URL is \
            this mcpgate deployment's own proxy or API (`upstream_is_mcpgate`)", body = ErrorBody),
        (status = 502, response = UpstreamFailed),
        (status = 504, response = UpstreamTimeout),
    ),
    security(("api_key" = []))
)]

async fn register(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<(StatusCode, Json<RegisteredServer>), ApiError> {
    let server = domain::register(
        &state,
        caller.tenant,
        RegisterServer {
            name: body.name,
            url: body.url,
            headers: body.headers,
            oauth: body.oauth.map(Into::into),
        },
    )
    .await?;
    let tools: Vec<ToolView> = servers::list_tools(&state.db, caller.tenant, server.id)
        .await?
        .into_iter()
        .map(ToolView::from)
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(RegisteredServer {
            server: ServerView::new(&state, server),
            tools,
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/servers",
    tag = "servers",
    operation_id = "list_servers",
    summary = "List servers",
    responses((status = 200, description = "The servers", body = ServerList)),
    security(("api_key" = []))
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<ServerList>, ApiError> {
    let servers: Vec<ServerView> = servers::list_servers(&state.db, caller.tenant)
        .await?
        .into_iter()
        .map(|server| ServerView::new(&state, server))
        .collect();
    Ok(Json(ServerList { servers }))
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}",
    tag = "servers",
    operation_id = "get_server",
    summary = "Show a server",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The server", body = ServerView),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<ServerView>, ApiError> {
    let server = servers::server(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    Ok(Json(ServerView::new(&state, server)))
}

/// Only the fields present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = UpdateServer)]
struct UpdateBody {
    name: Option<String>,
    /// A new address is discovered again before it is stored.
    url: Option<String>,
    /// Replaces every stored header.
    headers: Option<BTreeMap<String, String>>,
    /// Block tools whose definition changed since it was approved.
    block_changed_tools: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/servers/{id}",
    tag = "servers",
    operation_id = "update_server",
    summary = "Change a server",
    params(("id" = ServerId, Path, description = "The server's id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The changed server", body = ServerView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "You already have a server with this name (`server_name_taken`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "Invalid fields, or the new upstream is refused, not MCP or speaks no MCP \
            version mcpgate speaks, or the new URL is \
            this mcpgate deployment's own proxy or API (`upstream_is_mcpgate`)", body = ErrorBody),
        (status = 502, response = UpstreamFailed),
        (status = 504, response = UpstreamTimeout),
    ),
    security(("api_key" = []))
)]

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> Result<Json<ServerView>, ApiError> {
    let server = domain::update(
        &state,
        caller.tenant,
        id,
        UpdateServer {
            name: body.name,
            url: body.url,
            headers: body.headers,
            block_changed_tools: body.block_changed_tools,
        },
    )
    .await?;
    Ok(Json(ServerView::new(&state, server)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/servers/{id}",
    tag = "servers",
    operation_id = "delete_server",
    summary = "Delete a server",
    description = "With its tools and policies; the proxies stop serving it.",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<StatusCode, ApiError> {
    domain::delete(&state, caller.tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/v1/servers/{id}/sync",
    tag = "servers",
    operation_id = "sync_server",
    summary = "Discover a server's tools again",
    description = "Lists the upstream's tools and records which were added, changed or removed.",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "What changed", body = SyncAnswer),
        (status = 404, response = NotFound),
        (status = 422, description = "The upstream is refused, not MCP, refuses our credentials or supports no \
            MCP version mcpgate speaks", body = ErrorBody),
        (status = 502, response = UpstreamFailed),
        (status = 504, response = UpstreamTimeout),
    ),
    security(("api_key" = []))
)]
async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<SyncAnswer>, ApiError> {
    let report = domain::sync(&state, caller.tenant, id).await?;
    Ok(Json(SyncAnswer { sync: report }))
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/tools",
    tag = "servers",
    operation_id = "list_tools",
    summary = "List a server's tools",
    description = "Each with its definition, classification (category, risk, evidence) and approval state.",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The tools", body = ToolList),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn tools(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<ToolList>, ApiError> {
    servers::server(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let tools: Vec<ToolView> = servers::list_tools(&state.db, caller.tenant, id)
        .await?
        .into_iter()
        .map(ToolView::from)
        .collect();
    Ok(Json(ToolList { tools }))
}

#[utoipa::path(
    post,
    path = "/api/v1/servers/{id}/tools/{name}/approve",
    tag = "servers",
    operation_id = "approve_tool",
    summary = "Approve a tool's current definition",
    description = "Records the current fingerprint as approved, so a server that blocks changed \
        tools serves it again.",
    params(
        ("id" = ServerId, Path, description = "The server's id"),
        ("name" = String, Path, description = "The tool's name"),
    ),
    responses(
        (status = 200, description = "The tool", body = ToolView),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn approve_tool(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((id, name)): PathParams<(ServerId, String)>,
) -> Result<Json<ToolView>, ApiError> {
    let tool = servers::approve_tool(&state.db, caller.tenant, id, &name, &caller.actor)
        .await
        .map_err(|e| not_found_as(e, "tool"))?;
    publish(
        &state,
        mcpgate_store::changes::Change::Server {
            tenant: caller.tenant,
            server: id,
        },
    )
    .await;
    Ok(Json(tool.into()))
}
