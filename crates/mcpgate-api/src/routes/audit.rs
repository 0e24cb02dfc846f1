//! `GET /audit`: the audit log, newest first, filtered, cursor-paginated.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use chrono::{DateTime, Utc};
use mcpgate_store::audit::{self, AuditFilter};
use mcpgate_store::{AuditEventId, GrantId, ServerId};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::{Caller, QueryParams};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(query))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    server: Option<ServerId>,
    grant: Option<GrantId>,
    tool: Option<String>,
    decision: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    cursor: Option<String>,
    limit: Option<i64>,
}

async fn query(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::BadRequest(
            "`limit` must be between 1 and 500".into(),
        ));
    }
    let after = query.cursor.as_deref().map(decode_cursor).transpose()?;
    let filter = AuditFilter {
        server: query.server,
        grant: query.grant,
        tool: query.tool,
        decision: query.decision,
        since: query.since,
        until: query.until,
        after,
    };
    // One extra row tells whether another page exists.
    let mut events = audit::query_audit(&state.db, caller.tenant, &filter, limit + 1).await?;
    let next_cursor = if events.len() as i64 > limit {
        events.truncate(limit as usize);
        events.last().map(|e| encode_cursor(e.at, e.id))
    } else {
        None
    };
    Ok(Json(
        json!({ "events": events, "next_cursor": next_cursor }),
    ))
}

fn encode_cursor(at: DateTime<Utc>, id: AuditEventId) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}|{id}", at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> Result<(DateTime<Utc>, AuditEventId), ApiError> {
    let bad = || ApiError::BadRequest("`cursor` is not one this API returned".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (micros, id) = text.split_once('|').ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros.parse().map_err(|_| bad())?).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}
