//! Held calls: `GET /approvals?status=pending`, `POST /approvals/{id}/approve|deny`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use mcpgate_store::changes::Change;
use mcpgate_store::{approvals, ApprovalId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::extract::{Caller, PathParams, QueryParams, RawBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(list))
        .route("/approvals/{id}", get(show))
        .route("/approvals/{id}/approve", post(approve))
        .route("/approvals/{id}/deny", post(deny))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    if let Some(status) = &query.status {
        if !["pending", "approved", "denied", "expired"].contains(&status.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "unknown status `{status}`; expected pending, approved, denied or expired"
            )));
        }
    }
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let rows =
        approvals::list_approvals(&state.db, caller.tenant, query.status.as_deref(), limit).await?;
    Ok(Json(json!({ "approvals": rows })))
}

async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApprovalId>,
) -> Result<Json<Value>, ApiError> {
    let row = approvals::approval(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "approval"))?;
    Ok(Json(json!(row)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    reason: Option<String>,
}

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApprovalId>,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, id, "approved", body.json_or_default()?).await
}

async fn deny(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApprovalId>,
    body: RawBody,
) -> Result<Json<Value>, ApiError> {
    decide(state, caller, id, "denied", body.json_or_default()?).await
}

async fn decide(
    state: AppState,
    caller: Caller,
    id: ApprovalId,
    status: &'static str,
    body: DecisionBody,
) -> Result<Json<Value>, ApiError> {
    if body
        .reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(ApiError::invalid(
            "/reason",
            "must be at most 500 characters",
        ));
    }
    let row = approvals::decide_approval(
        &state.db,
        caller.tenant,
        id,
        status,
        &caller.actor,
        body.reason.as_deref(),
    )
    .await
    .map_err(|e| not_found_as(e, "approval"))?;
    publish(
        &state,
        Change::Approval {
            tenant: caller.tenant,
            approval: id,
            status: status.to_owned(),
        },
    )
    .await;
    Ok(Json(json!(row)))
}
