//! `GET/POST /api-keys`, `DELETE /api-keys/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use mcpgate_store::{accounts, ApiKeyId, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Permission, Routes};
use crate::domain::accounts::{new_api_key, CreatedApiKey};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::openapi::schemas::{BadRequest, Invalid, NotFound, PayloadTooLarge};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/api-keys", Permission::ManageApiKeys, list)
        .post("/api-keys", Permission::ManageApiKeys, create)
        .delete("/api-keys/{id}", Permission::ManageApiKeys, revoke)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, create, revoke))]
pub(super) struct Api;

/// The account's API keys.
#[derive(Debug, Serialize, ToSchema)]
struct ApiKeyList {
    api_keys: Vec<accounts::ApiKey>,
}

#[utoipa::path(
    get,
    path = "/api/v1/api-keys",
    tag = "api-keys",
    operation_id = "list_api_keys",
    summary = "List API keys",
    description = "Every key of the account, without secrets.",
    responses((status = 200, description = "The keys", body = ApiKeyList)),
    security(("api_key" = []))
)]

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<ApiKeyList>, ApiError> {
    let keys = accounts::list_api_keys(&state.db, caller.tenant).await?;
    Ok(Json(ApiKeyList { api_keys: keys }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateApiKey)]
struct CreateBody {
    /// What the key is for: at most 100 characters.
    name: String,
    /// What the key may do; `admin` when absent.
    #[serde(default = "admin")]
    role: Role,
}

fn admin() -> Role {
    Role::Admin
}

#[utoipa::path(
    post,
    path = "/api/v1/api-keys",
    tag = "api-keys",
    operation_id = "create_api_key",
    summary = "Create an API key",
    description = "The key itself (`key_secret`) is shown only in this answer.",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The new key, with its secret", body = CreatedApiKey),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
    ),
    security(("api_key" = []))
)]

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<CreatedApiKey>), ApiError> {
    let created = new_api_key(&state, caller.tenant, &body.name, body.role).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{id}",
    tag = "api-keys",
    operation_id = "revoke_api_key",
    summary = "Revoke an API key",
    description = "The key stops working at once.",
    params(("id" = ApiKeyId, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The revoked key", body = accounts::ApiKey),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApiKeyId>,
) -> Result<Json<accounts::ApiKey>, ApiError> {
    let key = accounts::revoke_api_key(&state.db, caller.tenant, id)
        .await
        .map_err(|e| crate::domain::not_found_as(e, "API key"))?;
    Ok(Json(key))
}
