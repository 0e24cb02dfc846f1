//! The tenant's single sign-on with OpenID Connect: `/sso`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::access::{Permission, Routes};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody};
use crate::openapi::schemas::{BadRequest, ErrorBody, Invalid, PayloadTooLarge};
use crate::sso::settings::{self, SsoInput, SsoSettings};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/sso", Permission::ManageSettings, show)
        .put("/sso", Permission::ManageSettings, put)
        .delete("/sso", Permission::ManageSettings, remove)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(show, put, remove), components(schemas(SsoInput, SsoSettings)))]
pub(super) struct Api;

#[utoipa::path(
    get,
    path = "/api/v1/sso",
    tag = "sso",
    operation_id = "get_sso",
    summary = "Show the single sign-on settings",
    description = "The client secret is never shown: `client_secret_set` says it is stored.",
    responses(
        (status = 200, description = "The settings", body = SsoSettings),
        (status = 404, description = "Single sign-on is not set up (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SsoSettings>, ApiError> {
    settings::show(&state, caller.tenant)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("single sign-on settings"))
}

#[utoipa::path(
    put,
    path = "/api/v1/sso",
    tag = "sso",
    operation_id = "put_sso",
    summary = "Set up single sign-on",
    description = "Names the tenant's OpenID Connect provider. The issuer's discovery document \
        (`/.well-known/openid-configuration`) is read now, through the same address policy as \
        upstream servers, and must name exactly this issuer. The client secret is sealed at rest; \
        leave it out to keep the stored one. Register `redirect_uri` (in the answer) at the provider.",
    request_body = SsoInput,
    responses(
        (status = 200, description = "The settings now", body = SsoSettings),
        (status = 400, response = BadRequest),
        (status = 409, description = "Another tenant signs in this email domain (`sso_domain_taken`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
    ),
    security(("api_key" = []))
)]
async fn put(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SsoInput>,
) -> Result<Json<SsoSettings>, ApiError> {
    Ok(Json(settings::save(&state, caller.tenant, body).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/sso",
    tag = "sso",
    operation_id = "delete_sso",
    summary = "Turn single sign-on off",
    description = "Members sign in with their passwords again; people who joined through SSO \
        have none and need a password reset.",
    responses(
        (status = 204, description = "Turned off"),
        (status = 404, description = "Single sign-on is not set up (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn remove(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    settings::remove(&state, caller.tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}
