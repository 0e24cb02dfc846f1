//! `POST /signup`: a new tenant, its owner, and a first API key (shown once).

use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::accounts::{self, SignupRequest};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/signup", post(signup))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignupBody {
    email: String,
    password: String,
    tenant_name: String,
}

async fn signup(
    axum::extract::State(state): axum::extract::State<AppState>,
    JsonBody(body): JsonBody<SignupBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
        Json(json!({
            "tenant": created.tenant,
            "user": created.user,
            "api_key": created.api_key,
        })),
    ))
}
