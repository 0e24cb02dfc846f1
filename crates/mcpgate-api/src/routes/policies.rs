//! A server's policy: `/servers/{id}/policy` (active; PUT stores a new version),
//! `/policy/versions`, `/policy/versions/{v}`, `/policy/rollback`,
//! `/policy/simulate`, `/policy/recommended`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use mcpgate_store::policies::{self, PolicyVersion};
use mcpgate_store::{servers, ServerId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::not_found_as;
use crate::domain::policies::{self as domain, SimulateCall};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams, QueryParams, RawBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/servers/{id}/policy", get(active).put(put))
        .route("/servers/{id}/policy/versions", get(versions))
        .route("/servers/{id}/policy/versions/{version}", get(version))
        .route("/servers/{id}/policy/rollback", post(rollback))
        .route("/servers/{id}/policy/simulate", post(simulate))
        .route("/servers/{id}/policy/recommended", get(recommended))
}

/// A stored version, with the document as JSON (and as written, in `source`).
#[derive(Debug, Serialize)]
struct VersionView {
    version: i32,
    document: Value,
    source: String,
    author: String,
    note: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<PolicyVersion> for VersionView {
    fn from(row: PolicyVersion) -> Self {
        Self {
            version: row.version,
            document: serde_json::from_str(&row.document).unwrap_or(Value::Null),
            source: row.document,
            author: row.author,
            note: row.note,
            created_at: row.created_at,
        }
    }
}

async fn ensure_server(state: &AppState, caller: &Caller, id: ServerId) -> Result<(), ApiError> {
    servers::server(&state.db, caller.tenant, id)
        .await
        .map(|_| ())
        .map_err(|e| not_found_as(e, "server"))
}

async fn active(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<VersionView>, ApiError> {
    ensure_server(&state, &caller, id).await?;
    let active = policies::active_policy(&state.db, caller.tenant, id)
        .await?
        .ok_or(ApiError::NotFound(
            "policy (the server has none yet; PUT one, or GET .../policy/recommended)",
        ))?;
    Ok(Json(active.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutQuery {
    note: Option<String>,
}

/// The body is the policy document itself, stored exactly as sent.
async fn put(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
    QueryParams(query): QueryParams<PutQuery>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ApiError::BadRequest(
            "send the policy document with `Content-Type: application/json`".into(),
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the policy document must be UTF-8 JSON".into()))?;
    let stored = domain::put(
        &state,
        caller.tenant,
        id,
        text,
        &caller.actor,
        query.note.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<Value>, ApiError> {
    ensure_server(&state, &caller, id).await?;
    let versions: Vec<VersionView> = policies::policy_versions(&state.db, caller.tenant, id)
        .await?
        .into_iter()
        .map(VersionView::from)
        .collect();
    Ok(Json(json!({ "versions": versions })))
}

async fn version(
    State(state): State<AppState>,
    caller: Caller,
    PathParams((id, version)): PathParams<(ServerId, i32)>,
) -> Result<Json<VersionView>, ApiError> {
    let row = policies::policy_version(&state.db, caller.tenant, id, version)
        .await
        .map_err(|e| not_found_as(e, "policy version"))?;
    Ok(Json(row.into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    version: i32,
}

async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
    JsonBody(body): JsonBody<RollbackBody>,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    let stored = domain::rollback(&state, caller.tenant, id, body.version, &caller.actor).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SimulateBody {
    /// A draft to try instead of the active policy.
    policy: Option<Value>,
    calls: Vec<SimulateCall>,
}

async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
    JsonBody(body): JsonBody<SimulateBody>,
) -> Result<Json<Value>, ApiError> {
    ensure_server(&state, &caller, id).await?;
    if body.calls.len() > 1000 {
        return Err(ApiError::invalid(
            "/calls",
            "simulate at most 1000 calls at once",
        ));
    }
    let draft = body.policy.as_ref().map(Value::to_string);
    let decisions =
        domain::simulate(&state, caller.tenant, id, draft.as_deref(), body.calls).await?;
    Ok(Json(json!({ "decisions": decisions })))
}

async fn recommended(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(domain::recommended(&state, caller.tenant, id).await?))
}
