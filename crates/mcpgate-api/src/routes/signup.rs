//! `POST /signup`: a new tenant, its owner, and a first API key (shown once).

use axum::http::StatusCode;
use axum::Json;
use mcpgate_store::accounts::{Tenant, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Access, Routes};
use crate::domain::accounts::{self, CreatedApiKey, SignupRequest};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::openapi::schemas::{BadRequest, ErrorBody, Invalid, PayloadTooLarge};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api().post("/signup", Access::Public, signup)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(signup))]
pub(super) struct Api;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Signup)]
struct SignupBody {
    /// The owner's email address.
    email: String,
    /// At least 10 characters, at most 1024 bytes.
    password: String,
    /// The account's name: at most 100 characters.
    tenant_name: String,
}

/// The new account and its first API key.
#[derive(Debug, Serialize, ToSchema)]
struct SignedUp {
    tenant: Tenant,
    user: User,
    api_key: CreatedApiKey,
}

#[utoipa::path(
    post,
    path = "/api/v1/signup",
    tag = "signup",
    operation_id = "sign_up",
    summary = "Create an account",
    description = "Creates a tenant, its owner and a first API key. The key (`api_key.key_secret`) \
        is shown only in this answer: keep it.",
    request_body = SignupBody,
    responses(
        (status = 201, description = "The account and its first API key", body = SignedUp),
        (status = 400, response = BadRequest),
        (status = 409, description = "An account with this email already exists (`email_taken`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
        (status = 503, description = "Too many passwords are being hashed at once (`busy`): \
            retry after `Retry-After` seconds", body = ErrorBody),
    )
)]

async fn signup(
    axum::extract::State(state): axum::extract::State<AppState>,
    JsonBody(body): JsonBody<SignupBody>,
) -> Result<(StatusCode, Json<SignedUp>), ApiError> {
    let created = accounts::sign_up(
        &state,
        SignupRequest {
            email: body.email,
            password: body.password,
            tenant_name: body.tenant_name,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignedUp {
            tenant: created.tenant,
            user: created.user,
            api_key: created.api_key,
        }),
    ))
}
