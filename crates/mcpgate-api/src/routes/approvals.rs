//! Held calls: `GET /approvals?status=pending`, `POST /approvals/{id}/approve|deny`.

use axum::extract::State;
use axum::Json;
use mcpgate_store::approvals::Approval;
use mcpgate_store::{approvals, ApprovalId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{Permission, Routes};
use crate::domain::approvals::{self as domain, Verdict};
use crate::domain::not_found_as;
use crate::error::ApiError;
use crate::extract::{Caller, PathParams, QueryParams, RawBody};
use crate::openapi::schemas::{BadRequest, ErrorBody, Invalid, NotFound, PayloadTooLarge};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/approvals", Permission::ViewApprovals, list)
        .get("/approvals/{id}", Permission::ViewApprovals, show)
        .post(
            "/approvals/{id}/approve",
            Permission::DecideApprovals,
            approve,
        )
        .post("/approvals/{id}/deny", Permission::DecideApprovals, deny)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, show, approve, deny))]
pub(super) struct Api;

/// Held calls, newest first.
#[derive(Debug, Serialize, ToSchema)]
struct ApprovalList {
    approvals: Vec<Approval>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only calls in this state: `pending`, `approved`, `denied` or `expired`.
    status: Option<String>,
    /// How many, 1 to 500 (default 100; out-of-range values are clamped).
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/approvals",
    tag = "approvals",
    operation_id = "list_approvals",
    summary = "List held calls",
    params(ListQuery),
    responses(
        (status = 200, description = "The held calls", body = ApprovalList),
        (status = 400, response = BadRequest),
    ),
    security(("api_key" = []))
)]

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<ApprovalList>, ApiError> {
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
    Ok(Json(ApprovalList { approvals: rows }))
}

#[utoipa::path(
    get,
    path = "/api/v1/approvals/{id}",
    tag = "approvals",
    operation_id = "get_approval",
    summary = "Show a held call",
    params(("id" = ApprovalId, Path, description = "The held call's id")),
    responses(
        (status = 200, description = "The held call", body = Approval),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApprovalId>,
) -> Result<Json<Approval>, ApiError> {
    let row = approvals::approval(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "approval"))?;
    Ok(Json(row))
}

/// The body is optional: send none, `{}`, or a reason.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ApprovalDecision)]
struct DecisionBody {
    /// Why, for the audit trail (and, on a deny, the agent): at most 500 characters.
    reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/approvals/{id}/approve",
    tag = "approvals",
    operation_id = "approve_call",
    summary = "Approve a held call",
    description = "The proxy forwards the held call.",
    params(("id" = ApprovalId, Path, description = "The held call's id")),
    request_body(content = Option<DecisionBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The decided call", body = Approval),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "Already decided or expired (`approval_not_pending`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
    ),
    security(("api_key" = []))
)]

async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApprovalId>,
    body: RawBody,
) -> Result<Json<Approval>, ApiError> {
    decide(state, caller, id, Verdict::Approve, body.json_or_default()?).await
}

#[utoipa::path(
    post,
    path = "/api/v1/approvals/{id}/deny",
    tag = "approvals",
    operation_id = "deny_call",
    summary = "Deny a held call",
    description = "The proxy refuses the held call, with the reason if one is given.",
    params(("id" = ApprovalId, Path, description = "The held call's id")),
    request_body(content = Option<DecisionBody>, content_type = "application/json"),
    responses(
        (status = 200, description = "The decided call", body = Approval),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "Already decided or expired (`approval_not_pending`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
    ),
    security(("api_key" = []))
)]
async fn deny(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ApprovalId>,
    body: RawBody,
) -> Result<Json<Approval>, ApiError> {
    decide(state, caller, id, Verdict::Deny, body.json_or_default()?).await
}

async fn decide(
    state: AppState,
    caller: Caller,
    id: ApprovalId,
    verdict: Verdict,
    body: DecisionBody,
) -> Result<Json<Approval>, ApiError> {
    let row = domain::decide(
        &state,
        caller.tenant,
        id,
        verdict,
        &caller.actor,
        body.reason.as_deref(),
    )
    .await?;
    Ok(Json(row))
}
