//! `GET/POST /api-keys`, `DELETE /api-keys/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use mcpgate_store::{accounts, ApiKeyId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::accounts::new_api_key;
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", delete(revoke))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let keys = accounts::list_api_keys(&state.db, caller.tenant).await?;
    Ok(Json(json!({ "api_keys": keys })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = new_api_key(&state, caller.tenant, &body.name).await?;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApiKeyId>,
) -> Result<Json<Value>, ApiError> {
    let key = accounts::revoke_api_key(&state.db, caller.tenant, id)
        .await
        .map_err(|e| crate::domain::not_found_as(e, "API key"))?;
    Ok(Json(json!(key)))
}
