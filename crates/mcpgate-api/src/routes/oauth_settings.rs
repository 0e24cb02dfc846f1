//! The tenant's settings of mcpgate's OAuth authorization server: `/oauth/settings`.

use axum::extract::State;
use axum::Json;
use mcpgate_store::oauth_server;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Permission, Routes};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody};
use crate::openapi::schemas::{BadRequest, PayloadTooLarge};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/oauth/settings", Permission::ViewGrants, show)
        .put("/oauth/settings", Permission::ManageGrants, put)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(show, put))]
pub(super) struct Api;

/// How OAuth clients may connect to this account's servers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct OAuthSettings {
    /// Whether clients registered through Dynamic Client Registration (RFC 7591) may be
    /// consented to. Clients identified by a Client ID Metadata Document always may.
    dynamic_client_registration: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/oauth/settings",
    tag = "grants",
    operation_id = "get_oauth_settings",
    summary = "Show the OAuth settings",
    responses((status = 200, description = "The settings", body = OAuthSettings)),
    security(("api_key" = []))
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<OAuthSettings>, ApiError> {
    let allowed = oauth_server::dynamic_registration_allowed(&state.db, caller.tenant).await?;
    Ok(Json(OAuthSettings {
        dynamic_client_registration: allowed,
    }))
}

#[utoipa::path(
    put,
    path = "/api/v1/oauth/settings",
    tag = "grants",
    operation_id = "put_oauth_settings",
    summary = "Change the OAuth settings",
    description = "Turning `dynamic_client_registration` off refuses dynamically registered \
        clients at the consent step from now on; connections made before stay (revoke their \
        grants to end them).",
    request_body = OAuthSettings,
    responses(
        (status = 200, description = "The settings now", body = OAuthSettings),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
    ),
    security(("api_key" = []))
)]
async fn put(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<OAuthSettings>,
) -> Result<Json<OAuthSettings>, ApiError> {
    oauth_server::set_dynamic_registration(
        &state.db,
        caller.tenant,
        body.dynamic_client_registration,
    )
    .await?;
    Ok(Json(body))
}
