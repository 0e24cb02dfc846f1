//! Grants (agents' credentials): `/grants`, `/grants/{id}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use mcpgate_store::{grants, GrantId};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};

use crate::domain::grants::{self as domain, ChangeGrant, CreateGrant, ServersSpec};
use crate::domain::not_found_as;
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/grants", get(list).post(create))
        .route("/grants/{id}", get(show).patch(change).delete(revoke))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    name: String,
    servers: ServersSpec,
    expires_at: Option<DateTime<Utc>>,
    /// The grant's own policy, narrowing the servers' (a JSON document).
    policy: Option<Value>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(json!(issued))))
}

async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let grants = grants::list_grants(&state.db, caller.tenant).await?;
    Ok(Json(json!({ "grants": grants })))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<GrantId>,
) -> Result<Json<Value>, ApiError> {
    let grant = grants::grant(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "grant"))?;
    Ok(Json(json!(grant)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    name: Option<String>,
    servers: Option<ServersSpec>,
    /// `null` removes the expiry; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    expires_at: Option<Option<DateTime<Utc>>>,
    /// `null` removes the grant's own policy; absent leaves it.
    #[serde(default, deserialize_with = "present")]
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

async fn change(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<GrantId>,
    JsonBody(body): JsonBody<ChangeBody>,
) -> Result<Json<Value>, ApiError> {
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
    let mut body = json!(grant);
    if let Some(token) = token {
        body["token"] = json!(token);
    }
    Ok(Json(body))
}

async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<GrantId>,
) -> Result<Json<Value>, ApiError> {
    let grant = domain::revoke(&state, caller.tenant, id).await?;
    Ok(Json(json!(grant)))
}
