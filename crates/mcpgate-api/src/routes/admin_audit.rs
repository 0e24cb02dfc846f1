//! The admin audit trail: `/admin-audit` (pages) and `/admin-audit/export` (JSON lines).

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mcpgate_store::admin_audit::{self, AdminEvent, AdminQuery};
use mcpgate_store::TenantId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::{Permission, Routes};
use crate::domain::admin_audit::{encode_cursor, TrailFilter};
use crate::error::ApiError;
use crate::extract::{Caller, QueryParams};
use crate::openapi::schemas::ErrorBody;
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/admin-audit", Permission::ViewAdminTrail, list)
        .get("/admin-audit/export", Permission::ViewAdminTrail, export)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(list, export))]
pub(super) struct Api;

/// One page of the trail, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TrailPage {
    pub(crate) events: Vec<AdminEvent>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub(crate) next_cursor: Option<String>,
}

/// One page of `tenant`'s trail.
pub(crate) async fn page(
    state: &AppState,
    tenant: TenantId,
    filter: &TrailFilter,
) -> Result<TrailPage, ApiError> {
    let query = filter.query()?;
    let mut events = admin_audit::list(&state.db, tenant, &query).await?;
    let limit = usize::try_from(query.limit - 1).unwrap_or(0);
    let next_cursor = if events.len() > limit {
        events.truncate(limit);
        events.last().map(|event| encode_cursor(event.at, event.id))
    } else {
        None
    };
    Ok(TrailPage {
        events,
        next_cursor,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/admin-audit",
    tag = "admin-audit",
    operation_id = "list_admin_audit",
    summary = "Read the admin audit trail",
    description = "Every change made to the tenant through this API or the dashboard \
        (servers, tool approvals and classifications, policies with their version diff, \
        grants, approvals, API keys, members and roles, settings): who (a member or an API \
        key, with the role held), when, from which address, to what and what changed. \
        Newest first; follow `next_cursor` until it is `null`.",
    params(TrailFilter),
    responses(
        (status = 200, description = "One page of events", body = TrailPage),
        (status = 400, description = "A bad filter, `limit` out of range or a cursor this API did not return (`bad_request`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(filter): QueryParams<TrailFilter>,
) -> Result<Json<TrailPage>, ApiError> {
    Ok(Json(page(&state, caller.tenant, &filter).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin-audit/export",
    tag = "admin-audit",
    operation_id = "export_admin_audit",
    summary = "Export the admin audit trail as JSON lines",
    description = "Every event matching the filters (`cursor` and `limit` are ignored), newest \
        first, one JSON object per line, streamed page by page.",
    params(TrailFilter),
    responses(
        (status = 200, description = "One event per line", content_type = "application/x-ndjson", body = AdminEvent),
        (status = 400, description = "A bad filter (`bad_request`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn export(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(filter): QueryParams<TrailFilter>,
) -> Result<Response, ApiError> {
    export_lines(state, caller.tenant, filter)
}

/// Every event of `tenant` matching `filter` as JSON lines, streamed page by page.
pub(crate) fn export_lines(
    state: AppState,
    tenant: TenantId,
    filter: TrailFilter,
) -> Result<Response, ApiError> {
    let first = AdminQuery {
        before: None,
        limit: 500,
        ..TrailFilter {
            cursor: None,
            limit: None,
            ..filter
        }
        .query()?
    };
    let pages = futures_util::stream::unfold(Some(first), move |next| {
        let state = state.clone();
        async move {
            let query = next?;
            match admin_audit::list(&state.db, tenant, &query).await {
                Ok(events) => {
                    let following = (events.len() as i64 == query.limit)
                        .then(|| events.last().map(|event| (event.at, event.id)))
                        .flatten()
                        .map(|before| AdminQuery {
                            before: Some(before),
                            ..query.clone()
                        });
                    let mut lines = String::new();
                    for event in &events {
                        lines.push_str(&serde_json::to_string(event).unwrap_or_default());
                        lines.push('\n');
                    }
                    Some((Ok::<_, std::io::Error>(lines), following))
                }
                Err(error) => {
                    // The status is sent already: the stream ends short, and the log says why.
                    tracing::error!(%error, %tenant, "the admin audit export failed mid-way");
                    Some((Err(std::io::Error::other(error.to_string())), None))
                }
            }
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(pages),
    )
        .into_response())
}
