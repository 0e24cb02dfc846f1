//! `GET /audit`: the audit log, newest first, filtered, cursor-paginated.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use mcpgate_store::audit::{self, AuditFilter, StoredAuditEvent};
use mcpgate_store::{GrantId, ServerId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{Permission, Routes};
use crate::error::ApiError;
use crate::extract::{Caller, QueryParams};
use crate::openapi::schemas::ErrorBody;
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api().get("/audit", Permission::ViewAudit, query)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(query))]
pub(super) struct Api;

/// One page of the audit log, newest first.
#[derive(Debug, Serialize, ToSchema)]
struct AuditPage {
    events: Vec<StoredAuditEvent>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Only this server's events.
    server: Option<ServerId>,
    /// Only this grant's events.
    grant: Option<GrantId>,
    /// Only calls of this tool.
    tool: Option<String>,
    /// Only this decision: `allow`, `deny`, `limited`, `shadow`, `approval_required` or `error`.
    decision: Option<String>,
    /// Events at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Events before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Events per page, 1 to 500 (default 50).
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    operation_id = "query_audit",
    summary = "Read the audit log",
    description = "Newest first, filtered, one page at a time: follow `next_cursor` until it is `null`. \
        Events are ordered by `position`, the order they were written in (which follows `at`, \
        except that an event written late, after a database outage say, comes where it was \
        written): a page never misses an event written while a reader pages.",
    params(AuditQuery),
    responses(
        (status = 200, description = "One page of events", body = AuditPage),
        (status = 400, description = "A bad filter, `limit` out of range or a cursor this API did not return (`bad_request`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]

async fn query(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "`limit` must be between 1 and 500".into(),
        ));
    }
    let before_position = query
        .cursor
        .as_deref()
        .map(|cursor| {
            crate::domain::audit::decode_cursor(cursor)
                .ok_or_else(|| ApiError::BadRequest("`cursor` is not one this API returned".into()))
        })
        .transpose()?;
    let filter = AuditFilter {
        server: query.server,
        grant: query.grant,
        tool: query.tool,
        decision: query.decision,
        since: query.since,
        until: query.until,
        before_position,
    };
    // One extra row tells whether another page exists.
    let mut events = audit::query_audit(&state.db, caller.tenant, &filter, limit + 1).await?;
    let next_cursor = if events.len() as i64 > limit {
        events.truncate(limit as usize);
        events
            .last()
            .map(|e| crate::domain::audit::encode_cursor(e.position))
    } else {
        None
    };
    Ok(Json(AuditPage {
        events,
        next_cursor,
    }))
}
