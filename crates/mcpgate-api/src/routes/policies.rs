//! A server's policy: `/servers/{id}/policy` (active; PUT stores a new version),
//! `/policy/versions`, `/policy/versions/{v}`, `/policy/rollback`,
//! `/policy/simulate`, `/policy/recommended`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use mcpgate_store::policies::{self, PolicyVersion};
use mcpgate_store::{servers, ServerId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::access::{Permission, Routes};
use crate::domain::not_found_as;
use crate::domain::policies::{self as domain, SimulateCall};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams, QueryParams, RawBody};
use crate::openapi::schemas::{
    BadRequest, Decision, ErrorBody, NotFound, PayloadTooLarge, PolicyDocument,
};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/servers/{id}/policy", Permission::ViewPolicies, active)
        .put("/servers/{id}/policy", Permission::ManagePolicies, put)
        .get(
            "/servers/{id}/policy/versions",
            Permission::ViewPolicies,
            versions,
        )
        .get(
            "/servers/{id}/policy/versions/{version}",
            Permission::ViewPolicies,
            version,
        )
        .post(
            "/servers/{id}/policy/rollback",
            Permission::ManagePolicies,
            rollback,
        )
        .post(
            "/servers/{id}/policy/simulate",
            Permission::ViewPolicies,
            simulate,
        )
        .get(
            "/servers/{id}/policy/recommended",
            Permission::ViewPolicies,
            recommended,
        )
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(active, put, versions, version, rollback, simulate, recommended))]
pub(super) struct Api;

/// A server's policy versions, newest (the active one) first.
#[derive(Debug, Serialize, ToSchema)]
struct VersionList {
    versions: Vec<VersionView>,
}

/// What each call would get, in order.
#[derive(Debug, Serialize, ToSchema)]
struct SimulateAnswer {
    #[schema(value_type = Vec<Decision>)]
    decisions: Vec<mcpgate_policy::Decision>,
}

/// A stored version, with the document as JSON (and as written, in `source`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PolicyVersion)]
struct VersionView {
    /// 1, 2, ...: each PUT or rollback adds one; the newest is active.
    version: i32,
    #[schema(value_type = PolicyDocument)]
    document: Value,
    /// The document exactly as written.
    source: String,
    /// Who stored it: `api-key:<prefix>` or `user:<email>`.
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

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/policy",
    tag = "policies",
    operation_id = "get_policy",
    summary = "Show a server's active policy",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The active version", body = VersionView),
        (status = 404, description = "No such server, or it has no policy yet (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct PutQuery {
    /// Why this version: shown in the version list.
    note: Option<String>,
}

#[utoipa::path(
    put,
    path = "/api/v1/servers/{id}/policy",
    tag = "policies",
    operation_id = "put_policy",
    summary = "Store a new policy version",
    description = "The body is the policy document itself, sent as `application/json` and stored \
        exactly as sent. It is validated in full first: every problem comes back at once, each at \
        its JSON Pointer in `details`, and the declared tests must pass. The new version becomes \
        active at the proxies within seconds.",
    params(("id" = ServerId, Path, description = "The server's id"), PutQuery),
    request_body(content = PolicyDocument, content_type = "application/json", description = "The policy document (see `docs/policy.schema.json`)"),
    responses(
        (status = 201, description = "The stored, now active, version", body = VersionView),
        (status = 400, description = "Not JSON, not UTF-8, or not sent as `application/json` (`bad_request`)", body = ErrorBody),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "The policy is invalid (`policy_invalid`); `details` lists every problem", body = ErrorBody),
    ),
    security(("api_key" = []))
)]

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

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/policy/versions",
    tag = "policies",
    operation_id = "list_policy_versions",
    summary = "List a server's policy versions",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "Every version", body = VersionList),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn versions(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<VersionList>, ApiError> {
    ensure_server(&state, &caller, id).await?;
    let versions: Vec<VersionView> = policies::policy_versions(&state.db, caller.tenant, id)
        .await?
        .into_iter()
        .map(VersionView::from)
        .collect();
    Ok(Json(VersionList { versions }))
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/policy/versions/{version}",
    tag = "policies",
    operation_id = "get_policy_version",
    summary = "Show one policy version",
    params(
        ("id" = ServerId, Path, description = "The server's id"),
        ("version" = i32, Path, description = "The version number"),
    ),
    responses(
        (status = 200, description = "The version", body = VersionView),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PolicyRollback)]
struct RollbackBody {
    /// The version to make active again.
    version: i32,
}

#[utoipa::path(
    post,
    path = "/api/v1/servers/{id}/policy/rollback",
    tag = "policies",
    operation_id = "rollback_policy",
    summary = "Make an old policy version active again",
    description = "Stores the old document as the newest version (history is never rewritten).",
    params(("id" = ServerId, Path, description = "The server's id")),
    request_body = RollbackBody,
    responses(
        (status = 201, description = "The new version, a copy of the old one", body = VersionView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "The old document no longer validates (`policy_invalid`), or a bad body", body = ErrorBody),
    ),
    security(("api_key" = []))
)]

async fn rollback(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
    JsonBody(body): JsonBody<RollbackBody>,
) -> Result<(StatusCode, Json<VersionView>), ApiError> {
    let stored = domain::rollback(&state, caller.tenant, id, body.version, &caller.actor).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PolicySimulation)]
struct SimulateBody {
    /// A draft to try instead of the active policy.
    #[schema(value_type = Option<PolicyDocument>)]
    policy: Option<Value>,
    /// At most 1000 calls, evaluated in order; limits count as they go.
    calls: Vec<SimulateCall>,
}

#[utoipa::path(
    post,
    path = "/api/v1/servers/{id}/policy/simulate",
    tag = "policies",
    operation_id = "simulate_policy",
    summary = "Simulate calls against a policy",
    description = "Evaluates the calls in order against a draft (`policy`) or the active policy, \
        with the server's stored tool classifications. Nothing is stored or counted.",
    params(("id" = ServerId, Path, description = "The server's id")),
    request_body = SimulateBody,
    responses(
        (status = 200, description = "One decision per call", body = SimulateAnswer),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "No draft was sent and the server has no policy (`no_policy`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, description = "The draft is invalid (`policy_invalid`) or too many calls", body = ErrorBody),
    ),
    security(("api_key" = []))
)]

async fn simulate(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
    JsonBody(body): JsonBody<SimulateBody>,
) -> Result<Json<SimulateAnswer>, ApiError> {
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
    Ok(Json(SimulateAnswer { decisions }))
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/policy/recommended",
    tag = "policies",
    operation_id = "recommended_policy",
    summary = "A policy to start from",
    description = "Recommended from the classification of the server's current tools; not stored.",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "A policy document", body = PolicyDocument),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn recommended(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(domain::recommended(&state, caller.tenant, id).await?))
}
