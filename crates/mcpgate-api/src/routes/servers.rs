//! Servers and their tools: `/servers`, `/servers/{id}`, `/servers/{id}/sync`,
//! `/servers/{id}/tools`, `/servers/{id}/tools/{name}/approve`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use mcpgate_store::servers::{self, Server, Tool};
use mcpgate_store::ServerId;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::servers::{self as domain, RegisterServer, UpdateServer};
use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/servers", get(list).post(register))
        .route("/servers/{id}", get(show).patch(update).delete(remove))
        .route("/servers/{id}/sync", post(sync))
        .route("/servers/{id}/tools", get(tools))
        .route("/servers/{id}/tools/{name}/approve", post(approve_tool))
}

/// A server as the API shows it: never its credentials, always its proxy URL.
#[derive(Debug, Serialize)]
pub struct ServerView {
    #[serde(flatten)]
    server: Server,
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

/// A tool as the API shows it, with its approval state spelled out.
#[derive(Debug, Serialize)]
pub struct ToolView {
    #[serde(flatten)]
    tool: Tool,
    /// The definition differs from the approved one.
    changed_since_approval: bool,
}

impl From<Tool> for ToolView {
    fn from(tool: Tool) -> Self {
        Self {
            changed_since_approval: tool.approved_fingerprint.as_deref()
                != Some(tool.fingerprint.as_str()),
            tool,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterBody {
    name: String,
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

async fn register(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let server = domain::register(
        &state,
        caller.tenant,
        RegisterServer {
            name: body.name,
            url: body.url,
            headers: body.headers,
        },
    )
    .await?;
    let tools: Vec<ToolView> = servers::list_tools(&state.db, caller.tenant, server.id)
        .await?
        .into_iter()
        .map(ToolView::from)
        .collect();
    let mut body = json!(ServerView::new(&state, server));
    body["tools"] = json!(tools);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let servers: Vec<ServerView> = servers::list_servers(&state.db, caller.tenant)
        .await?
        .into_iter()
        .map(|server| ServerView::new(&state, server))
        .collect();
    Ok(Json(json!({ "servers": servers })))
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    name: Option<String>,
    url: Option<String>,
    headers: Option<BTreeMap<String, String>>,
    block_changed_tools: Option<bool>,
}

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

async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<StatusCode, ApiError> {
    domain::delete(&state, caller.tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<Value>, ApiError> {
    let report = domain::sync(&state, caller.tenant, id).await?;
    Ok(Json(json!({ "sync": report })))
}

async fn tools(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<Value>, ApiError> {
    servers::server(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let tools: Vec<ToolView> = servers::list_tools(&state.db, caller.tenant, id)
        .await?
        .into_iter()
        .map(ToolView::from)
        .collect();
    Ok(Json(json!({ "tools": tools })))
}

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
