//! One tool and the tenant's correction of its classification:
//! `/servers/{id}/tools/{name}`, `.../classification` (PUT, DELETE) and
//! `.../classification/history`.

use axum::extract::State;
use axum::Json;
use mcpgate_store::classifications::ClassificationChange;
use mcpgate_store::ServerId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::servers::ToolView;
use crate::access::{Permission, Routes};
use crate::domain::classification::{self as domain, Correction};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::openapi::schemas::{BadRequest, ErrorBody, NotFound, PayloadTooLarge};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/servers/{id}/tools/{name}", Permission::ViewServers, show)
        .put(
            "/servers/{id}/tools/{name}/classification",
            Permission::ManageServers,
            set,
        )
        .delete(
            "/servers/{id}/tools/{name}/classification",
            Permission::ManageServers,
            remove,
        )
        .get(
            "/servers/{id}/tools/{name}/classification/history",
            Permission::ViewServers,
            history,
        )
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(show, set, remove, history))]
pub(super) struct Api;

/// What the tool is, in the tenant's judgement, and why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ClassificationOverrideRequest)]
struct OverrideBody {
    /// `read`, `write`, `destructive`, `execute`, `credential` or `network`.
    category: String,
    /// `low`, `medium`, `high` or `critical`.
    risk: String,
    /// Why the classifier was wrong; 1 to 500 characters, kept in the history.
    reason: String,
}

/// A tool's classification changes, newest first.
#[derive(Debug, Serialize, ToSchema)]
struct ClassificationHistory {
    changes: Vec<ClassificationChange>,
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/tools/{name}",
    tag = "servers",
    operation_id = "get_tool",
    summary = "Show one tool",
    description = "Its definition, classification (the override when there is one), the \
        classifier's own verdict, evidence and confidence, `review` and approval state.",
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
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((id, name)): PathParams<(ServerId, String)>,
) -> Result<Json<ToolView>, ApiError> {
    let tool = domain::tool(&state, caller.tenant, id, &name).await?;
    Ok(Json(tool.into()))
}

#[utoipa::path(
    put,
    path = "/api/v1/servers/{id}/tools/{name}/classification",
    tag = "servers",
    operation_id = "set_tool_classification",
    summary = "Correct a tool's classification",
    description = "Sets the tool's category and risk; they win wherever a classification is \
        used (the recommended policy, `classes` selectors, the proxy's decisions, the tools \
        table) until removed. The override survives re-syncs; when the tool's definition \
        changes it is marked `stale` and the tool `review`, and it keeps applying only where \
        it is at least as strict (by risk) as the classifier's verdict on the new definition \
        (`applies`); setting it again confirms it against the current definition. Recorded \
        in the history; the \
        proxies reload the server.",
    params(
        ("id" = ServerId, Path, description = "The server's id"),
        ("name" = String, Path, description = "The tool's name"),
    ),
    request_body = OverrideBody,
    responses(
        (status = 200, description = "The tool with its override", body = ToolView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "An unknown category or risk, or a blank or overlong \
            reason (`validation_failed`, at its path)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn set(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((id, name)): PathParams<(ServerId, String)>,
    JsonBody(body): JsonBody<OverrideBody>,
) -> Result<Json<ToolView>, ApiError> {
    let correction = Correction {
        category: body.category,
        risk: body.risk,
        reason: body.reason,
    };
    let tool = domain::set(&state, caller.tenant, id, &name, &correction, &caller.actor).await?;
    Ok(Json(tool.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/servers/{id}/tools/{name}/classification",
    tag = "servers",
    operation_id = "remove_tool_classification",
    summary = "Remove a tool's classification override",
    description = "The classifier's verdict applies again. Recorded in the history; the \
        proxies reload the server.",
    params(
        ("id" = ServerId, Path, description = "The server's id"),
        ("name" = String, Path, description = "The tool's name"),
    ),
    responses(
        (status = 200, description = "The tool, without an override", body = ToolView),
        (status = 404, description = "No such server or tool, or the tool has no override", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((id, name)): PathParams<(ServerId, String)>,
) -> Result<Json<ToolView>, ApiError> {
    let tool = domain::remove(&state, caller.tenant, id, &name, &caller.actor).await?;
    Ok(Json(tool.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/tools/{name}/classification/history",
    tag = "servers",
    operation_id = "tool_classification_history",
    summary = "A tool's classification overrides, newest first",
    description = "Every override set or removed: who, when, the classification in force \
        before and after (and whether each was an override), the reason and the tool's \
        fingerprint at the time.",
    params(
        ("id" = ServerId, Path, description = "The server's id"),
        ("name" = String, Path, description = "The tool's name"),
    ),
    responses(
        (status = 200, description = "The changes", body = ClassificationHistory),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn history(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((id, name)): PathParams<(ServerId, String)>,
) -> Result<Json<ClassificationHistory>, ApiError> {
    let changes = domain::history(&state, caller.tenant, id, &name).await?;
    Ok(Json(ClassificationHistory { changes }))
}
