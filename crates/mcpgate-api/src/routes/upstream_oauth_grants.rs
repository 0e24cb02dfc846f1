//! Per-grant upstream OAuth connections of a server (`connection_scope: grant`):
//! `/servers/{id}/oauth/grants`, listed and deleted one by one. Each grant connects
//! itself through the dashboard's connect page (its agents get the URL with their
//! first call); tokens are never shown.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use mcpgate_store::upstream_oauth::{Connection, ConnectionStatus};
use mcpgate_store::{GrantId, ServerId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::{Permission, Routes};
use crate::domain::upstream_oauth::per_grant as domain;
use crate::error::ApiError;
use crate::extract::{Caller, PathParams};
use crate::openapi::schemas::NotFound;
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/servers/{id}/oauth/grants", Permission::ViewServers, list)
        .delete(
            "/servers/{id}/oauth/grants/{grant}",
            Permission::ManageServers,
            disconnect,
        )
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, disconnect))]
pub(super) struct Api;

/// One grant's own connection to the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantConnectionView {
    grant_id: GrantId,
    grant_name: String,
    /// `connected` or `needs_reconnect`.
    #[schema(value_type = String)]
    status: ConnectionStatus,
    /// Why it needs reconnecting.
    status_reason: Option<String>,
    access_expires_at: Option<DateTime<Utc>>,
    connected_at: Option<DateTime<Utc>>,
    /// Who signed in at the authorization server for the grant (`user:<email>`).
    connected_by: Option<String>,
    refreshed_at: Option<DateTime<Utc>>,
    /// The dashboard page where the grant's person connects (again).
    connect_url: String,
}

/// A server's per-grant connections.
#[derive(Debug, Serialize, ToSchema)]
struct GrantConnectionList {
    connections: Vec<GrantConnectionView>,
}

fn view(state: &AppState, connection: Connection, grant_name: String) -> GrantConnectionView {
    let grant_id = connection
        .grant_id
        .expect("a per-grant connection names its grant");
    GrantConnectionView {
        connect_url: domain::connect_url(state, connection.server_id, grant_id),
        grant_id,
        grant_name,
        status: connection.status,
        status_reason: connection.status_reason,
        access_expires_at: connection.access_expires_at,
        connected_at: connection.connected_at,
        connected_by: connection.connected_by,
        refreshed_at: connection.refreshed_at,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/oauth/grants",
    tag = "upstream-oauth",
    operation_id = "list_upstream_oauth_grant_connections",
    summary = "List a server's per-grant OAuth connections",
    description = "For a server whose OAuth `connection_scope` is `grant`: each grant that \
        connected its own upstream user, with its status, who connected it and when. The most \
        recently connected first.",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The connections", body = GrantConnectionList),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<GrantConnectionList>, ApiError> {
    let connections = domain::list(&state, caller.tenant, id)
        .await?
        .into_iter()
        .map(|(connection, name)| view(&state, connection, name))
        .collect();
    Ok(Json(GrantConnectionList { connections }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/servers/{id}/oauth/grants/{grant}",
    tag = "upstream-oauth",
    operation_id = "delete_upstream_oauth_grant_connection",
    summary = "Delete one grant's OAuth connection",
    description = "Forgets the grant's upstream tokens (audited as `upstream_oauth/disconnected`): \
        its next call is answered with the URL to connect again. Revoking the grant does the \
        same for all its connections.",
    params(
        ("id" = ServerId, Path, description = "The server's id"),
        ("grant" = GrantId, Path, description = "The grant's id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((id, grant)): PathParams<(ServerId, GrantId)>,
) -> Result<StatusCode, ApiError> {
    domain::disconnect(&state, caller.tenant, id, grant, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
