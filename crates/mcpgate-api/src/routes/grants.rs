//! Grants (agents' credentials): `/grants`, `/grants/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use mcpgate_store::grants::Grant;
use mcpgate_store::{grants, GrantId};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::access::{Permission, Routes};
use crate::domain::grants::{self as domain, ChangeGrant, CreateGrant, IssuedGrant, ServersSpec};
use crate::domain::not_found_as;
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::openapi::schemas::{
    BadRequest, ErrorBody, Invalid, NotFound, PayloadTooLarge, PolicyDocument,
};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/grants", Permission::ViewGrants, list)
        .post("/grants", Permission::ManageGrants, create)
        .get("/grants/{id}", Permission::ViewGrants, show)
        .patch("/grants/{id}", Permission::ManageGrants, change)
        .delete("/grants/{id}", Permission::ManageGrants, revoke)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(create, list, show, change, revoke))]
pub(super) struct Api;

/// The account's grants, revoked ones included.
#[derive(Debug, Serialize, ToSchema)]
struct GrantList {
    grants: Vec<Grant>,
}

/// A changed grant; `token` only when it was rotated.
#[derive(Debug, Serialize, ToSchema)]
struct ChangedGrant {
    #[serde(flatten)]
    grant: Grant,
    /// The new token, after `rotate`: shown only here.
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateGrant)]
struct CreateBody {
    /// At most 100 characters.
    name: String,
    servers: ServersSpec,
    /// In the future; absent means no expiry.
    expires_at: Option<DateTime<Utc>>,
    /// The grant's own policy, narrowing the servers' (a JSON document).
    #[schema(value_type = Option<PolicyDocument>)]
    policy: Option<Value>,
}

#[utoipa::path(
    post,
    path = "/api/v1/grants",
    tag = "grants",
    operation_id = "create_grant",
    summary = "Issue a grant",
    description = "A credential for one agent: its token (an EdDSA JWT, shown only in this answer) \
        is sent to the proxy as `Authorization: Bearer <token>`.",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The grant and its token", body = IssuedGrant),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "Invalid fields, an unknown server id, or an invalid policy (`validation_failed`, `policy_invalid`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<IssuedGrant>), ApiError> {
    let issued = domain::create(
        &state,
        caller.tenant,
        CreateGrant {
            name: body.name,
            servers: body.servers,
            expires_at: body.expires_at,
            policy: body.policy.as_ref().map(Value::to_string),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

#[utoipa::path(
    get,
    path = "/api/v1/grants",
    tag = "grants",
    operation_id = "list_grants",
    summary = "List grants",
    responses((status = 200, description = "The grants, without tokens", body = GrantList)),
    security(("api_key" = []))
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<GrantList>, ApiError> {
    let grants = grants::list_grants(&state.db, caller.tenant).await?;
    Ok(Json(GrantList { grants }))
}

#[utoipa::path(
    get,
    path = "/api/v1/grants/{id}",
    tag = "grants",
    operation_id = "get_grant",
    summary = "Show a grant",
    params(("id" = GrantId, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "The grant, without its token", body = Grant),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<GrantId>,
) -> Result<Json<Grant>, ApiError> {
    let grant = grants::grant(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "grant"))?;
    Ok(Json(grant))
}

/// Only the fields present change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeGrant)]
struct ChangeBody {
    name: Option<String>,
    servers: Option<ServersSpec>,
    /// `null` removes the expiry; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    expires_at: Option<Option<DateTime<Utc>>>,
    /// `null` removes the grant's own policy; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<PolicyDocument>)]
    policy: Option<Option<Value>>,
    /// Issue a new token; the old one stops working.
    #[serde(default)]
    rotate: bool,
}

/// Tells "absent" (`None`) from "null" (`Some(None)`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[utoipa::path(
    patch,
    path = "/api/v1/grants/{id}",
    tag = "grants",
    operation_id = "update_grant",
    summary = "Change or rotate a grant",
    description = "The proxies apply the change within seconds. With `rotate`, a new token is \
        issued and the old one stops working.",
    params(("id" = GrantId, Path, description = "The grant's id")),
    request_body = ChangeBody,
    responses(
        (status = 200, description = "The changed grant (with `token` after a rotation)", body = ChangedGrant),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "The grant is revoked and can no longer change (`grant_revoked`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
    ),
    security(("api_key" = []))
)]
async fn change(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<GrantId>,
    JsonBody(body): JsonBody<ChangeBody>,
) -> Result<Json<ChangedGrant>, ApiError> {
    let (grant, token) = domain::change(
        &state,
        caller.tenant,
        id,
        ChangeGrant {
            name: body.name,
            servers: body.servers,
            expires_at: body.expires_at,
            policy: body.policy.map(|p| p.as_ref().map(Value::to_string)),
            rotate: body.rotate,
        },
    )
    .await?;
    Ok(Json(ChangedGrant { grant, token }))
}

#[utoipa::path(
    delete,
    path = "/api/v1/grants/{id}",
    tag = "grants",
    operation_id = "revoke_grant",
    summary = "Revoke a grant",
    description = "Every token of the grant stops working at the proxies within seconds.",
    params(("id" = GrantId, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "The revoked grant", body = Grant),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<GrantId>,
) -> Result<Json<Grant>, ApiError> {
    let grant = domain::revoke(&state, caller.tenant, id).await?;
    Ok(Json(grant))
}
