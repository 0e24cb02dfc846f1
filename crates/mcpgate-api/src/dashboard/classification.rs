//! Correcting a tool's classification from its row in the tools table: set an
//! override (category, risk, reason) or remove it. Both go through the same
//! domain functions as the REST API, so they are audited and reach the proxies.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::ServerId;
use serde::Deserialize;

use crate::dashboard::page::PageError;
use crate::dashboard::session::CsrfForm;
use crate::domain::classification::{self as domain, Correction};
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct OverrideForm {
    tool: String,
    category: String,
    risk: String,
    #[serde(default)]
    reason: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RemoveForm {
    tool: String,
}

pub(crate) async fn set(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<OverrideForm>,
) -> Result<Response, PageError> {
    let correction = Correction {
        category: form.category,
        risk: form.risk,
        reason: form.reason,
    };
    let caller = &session.caller;
    domain::set(
        &state,
        caller.tenant,
        id,
        &form.tool,
        &correction,
        &caller.actor,
    )
    .await?;
    Ok(back_to_row(id, &form.tool))
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<RemoveForm>,
) -> Result<Response, PageError> {
    let caller = &session.caller;
    domain::remove(&state, caller.tenant, id, &form.tool, &caller.actor).await?;
    Ok(back_to_row(id, &form.tool))
}

fn back_to_row(server: ServerId, tool: &str) -> Response {
    let anchor: String = url::form_urlencoded::byte_serialize(tool.as_bytes()).collect();
    Redirect::to(&format!("/servers/{server}#tool-{anchor}")).into_response()
}
