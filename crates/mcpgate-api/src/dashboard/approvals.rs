//! Held calls: pending ones with their arguments, approved or denied here.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::approvals::{self, Approval};
use mcpgate_store::servers;
use mcpgate_store::ApprovalId;
use serde::Deserialize;

use crate::dashboard::grants::time;
use crate::dashboard::page::{render, PageError};
use crate::dashboard::session::{CsrfForm, Nav, UserSession};
use crate::domain::approvals::Verdict;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    nav: Nav,
    pending: Vec<ApprovalRow>,
    decided: Vec<ApprovalRow>,
}

struct ApprovalRow {
    approval: Approval,
    server: String,
    arguments: String,
}

impl ApprovalRow {
    fn created(&self) -> String {
        time(self.approval.created_at)
    }
    fn expires(&self) -> String {
        time(self.approval.expires_at)
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    session: UserSession,
) -> Result<Response, PageError> {
    let tenant = session.caller.tenant;
    let servers = servers::list_servers(&state.db, tenant).await?;
    let rows = |items: Vec<Approval>| -> Vec<ApprovalRow> {
        items
            .into_iter()
            .map(|approval| ApprovalRow {
                server: servers
                    .iter()
                    .find(|s| s.id == approval.server_id)
                    .map_or_else(|| approval.server_id.to_string(), |s| s.name.clone()),
                arguments: serde_json::to_string_pretty(&approval.arguments).unwrap_or_default(),
                approval,
            })
            .collect()
    };
    let pending = approvals::list_approvals(&state.db, tenant, Some("pending"), 200).await?;
    let decided: Vec<Approval> = approvals::list_approvals(&state.db, tenant, None, 50)
        .await?
        .into_iter()
        .filter(|a| a.status != "pending")
        .collect();
    render(&ApprovalsPage {
        nav: session.nav("approvals"),
        pending: rows(pending),
        decided: rows(decided),
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: String,
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    PathParams(id): PathParams<ApprovalId>,
    CsrfForm { session, form, .. }: CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let verdict = match form.decision.as_str() {
        "approve" => Verdict::Approve,
        "deny" => Verdict::Deny,
        _ => return Err(ApiError::BadRequest("decide approve or deny".into()).into()),
    };
    crate::domain::approvals::decide(
        &state,
        session.caller.tenant,
        id,
        verdict,
        &session.caller.actor,
        Some(form.reason.as_str()),
    )
    .await?;
    Ok(Redirect::to("/approvals").into_response())
}
