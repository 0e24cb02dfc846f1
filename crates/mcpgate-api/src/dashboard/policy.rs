//! A server's policy: the JSON editor with errors at their paths, one-click
//! recommended policy, quick actions per tool, the visual builder, version
//! history with diffs and rollback, and the simulator.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_policy::Outcome;
use mcpgate_store::servers::{self, Server};
use mcpgate_store::{policies, ServerId};
use serde::Deserialize;
use serde_json::Value;

use crate::dashboard::auth::EmptyForm;
use crate::dashboard::diff::{line_diff, DiffLine};
use crate::dashboard::page::{form_errors, render, render_with, FieldError, PageError};
use crate::dashboard::policy_edit::{
    apply_choices, apply_quick, current_choice, editable, to_text, Choice, QuickAction,
};
use crate::dashboard::session::{CsrfForm, Nav, UserSession};
use crate::domain::not_found_as;
use crate::domain::policies::{self as domain, SimulateCall};
use crate::error::ApiError;
use crate::extract::{PathParams, QueryParams};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage {
    nav: Nav,
    server: Server,
    document: String,
    active_version: Option<i32>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    versions: Vec<VersionRow>,
    builder: Vec<BuilderRow>,
    simulate: SimulateForm,
    simulation: Vec<SimulatedRow>,
    diff: Option<DiffView>,
}

struct VersionRow {
    version: i32,
    author: String,
    note: String,
    created_at: String,
}

struct BuilderRow {
    name: String,
    category: String,
    risk: String,
    choice: &'static str,
}

struct SimulatedRow {
    number: usize,
    outcome: &'static str,
    rule: String,
    reason: String,
}

struct DiffView {
    from: i32,
    to: i32,
    lines: Vec<DiffLine>,
}

impl PolicyPage {
    async fn load(
        state: &AppState,
        session: &UserSession,
        id: ServerId,
    ) -> Result<PolicyPage, PageError> {
        let tenant = session.caller.tenant;
        let server = servers::server(&state.db, tenant, id)
            .await
            .map_err(|e| not_found_as(e, "server"))?;
        let versions = policies::policy_versions(&state.db, tenant, id).await?;
        let active = versions.iter().max_by_key(|v| v.version);
        let document = active.map_or_else(
            || "{\n  \"version\": \"1\"\n}".to_owned(),
            |v| pretty(&v.document),
        );
        let parsed = editable(active.map(|v| v.document.as_str())).unwrap_or_default();
        let tools = servers::list_tools(&state.db, tenant, id).await?;
        let builder = tools
            .iter()
            .filter(|tool| tool.removed_at.is_none())
            .map(|tool| BuilderRow {
                name: tool.name.clone(),
                category: tool.category.clone(),
                risk: tool.risk.clone(),
                choice: current_choice(&parsed, &tool.name).as_str(),
            })
            .collect();
        let mut rows: Vec<VersionRow> = versions
            .iter()
            .map(|v| VersionRow {
                version: v.version,
                author: v.author.clone(),
                note: v.note.clone().unwrap_or_default(),
                created_at: v.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            })
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.version));
        Ok(PolicyPage {
            nav: session.nav("servers"),
            active_version: active.map(|v| v.version),
            server,
            document,
            errors: Vec::new(),
            notice: None,
            versions: rows,
            builder,
            simulate: SimulateForm::default(),
            simulation: Vec::new(),
            diff: None,
        })
    }
}

/// A stored document, pretty-printed when it is JSON (as written otherwise).
fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| text.to_owned())
}

#[derive(Debug, Deserialize)]
pub(crate) struct PolicyQuery {
    saved: Option<i32>,
    from: Option<i32>,
    to: Option<i32>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    session: UserSession,
    PathParams(id): PathParams<ServerId>,
    QueryParams(query): QueryParams<PolicyQuery>,
) -> Result<Response, PageError> {
    let mut page = PolicyPage::load(&state, &session, id).await?;
    if let Some(version) = query.saved {
        page.notice = Some(format!(
            "Saved as version {version}; the proxies apply it within seconds."
        ));
    }
    if let (Some(from), Some(to)) = (query.from, query.to) {
        let tenant = session.caller.tenant;
        let old = policies::policy_version(&state.db, tenant, id, from)
            .await
            .map_err(|e| not_found_as(e, "policy version"))?;
        let new = policies::policy_version(&state.db, tenant, id, to)
            .await
            .map_err(|e| not_found_as(e, "policy version"))?;
        page.diff = Some(DiffView {
            from,
            to,
            lines: line_diff(&pretty(&old.document), &pretty(&new.document)),
        });
    }
    render(&page)
}

/// Saves `text` as a new version, or shows the editor again with the problems.
async fn save(
    state: &AppState,
    session: &UserSession,
    id: ServerId,
    text: &str,
    note: Option<&str>,
) -> Result<Response, PageError> {
    match domain::put(
        state,
        session.caller.tenant,
        id,
        text,
        &session.caller.actor,
        note,
    )
    .await
    {
        Ok(version) => Ok(
            Redirect::to(&format!("/servers/{id}/policy?saved={}", version.version))
                .into_response(),
        ),
        Err(error @ (ApiError::NotFound(_) | ApiError::Internal(_))) => Err(error.into()),
        Err(error) => {
            let mut page = PolicyPage::load(state, session, id).await?;
            page.document = text.to_owned();
            page.errors = form_errors(error)?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct SaveForm {
    #[serde(default)]
    document: String,
    #[serde(default)]
    note: String,
}

pub(crate) async fn put(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<SaveForm>,
) -> Result<Response, PageError> {
    let note = Some(form.note.trim()).filter(|n| !n.is_empty());
    save(&state, &session, id, &form.document, note).await
}

pub(crate) async fn use_recommended(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let recommended = domain::recommended(&state, session.caller.tenant, id).await?;
    let text =
        serde_json::to_string_pretty(&recommended).map_err(|e| ApiError::Internal(e.into()))?;
    save(&state, &session, id, &text, Some("recommended policy")).await
}

/// Edits the active document (or a new one) with `edit` and saves it.
async fn edit_and_save(
    state: &AppState,
    session: &UserSession,
    id: ServerId,
    note: &str,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> Result<Response, PageError> {
    let active = policies::active_policy(&state.db, session.caller.tenant, id).await?;
    let mut document =
        editable(active.as_ref().map(|p| p.document.as_str())).map_err(|message| {
            ApiError::Conflict {
                code: "policy_not_editable",
                message,
            }
        })?;
    edit(&mut document);
    save(state, session, id, &to_text(&document), Some(note)).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct QuickForm {
    tool: String,
    action: String,
    #[serde(default)]
    max: String,
    #[serde(default)]
    window: String,
}

pub(crate) async fn quick(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<QuickForm>,
) -> Result<Response, PageError> {
    let action = match form.action.as_str() {
        "allow" => QuickAction::Allow,
        "deny" => QuickAction::Deny,
        "require_approval" => QuickAction::RequireApproval,
        "rate_limit" => {
            let max = form
                .max
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or(ApiError::invalid(
                    "/max",
                    "the limit must be a whole number above 0",
                ))?;
            let window = match form.window.as_str() {
                "" => "minute".to_owned(),
                w @ ("second" | "minute" | "hour" | "day") => w.to_owned(),
                _ => return Err(ApiError::invalid("/window", "unknown window").into()),
            };
            QuickAction::RateLimit { max, window }
        }
        _ => return Err(ApiError::BadRequest("unknown quick action".into()).into()),
    };
    let note = format!("{} {}", form.action.replace('_', " "), form.tool);
    edit_and_save(&state, &session, id, &note, |document| {
        apply_quick(document, &form.tool, &action)
    })
    .await
}

/// The builder posts one `choice:<tool>` field per tool.
pub(crate) async fn builder(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, pairs, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let mut choices = Vec::new();
    for (key, value) in &pairs {
        if let Some(tool) = key.strip_prefix("choice:") {
            let choice = Choice::parse(value)
                .ok_or_else(|| ApiError::BadRequest(format!("unknown choice `{value}`")))?;
            choices.push((tool.to_owned(), choice));
        }
    }
    edit_and_save(&state, &session, id, "visual builder", |document| {
        apply_choices(document, &choices)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(crate) struct RollbackForm {
    version: i32,
}

pub(crate) async fn rollback(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<RollbackForm>,
) -> Result<Response, PageError> {
    let version = domain::rollback(
        &state,
        session.caller.tenant,
        id,
        form.version,
        &session.caller.actor,
    )
    .await?;
    Ok(Redirect::to(&format!("/servers/{id}/policy?saved={}", version.version)).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SimulateForm {
    #[serde(default)]
    tool: String,
    #[serde(default)]
    arguments: String,
    #[serde(default)]
    times: String,
}

pub(crate) async fn simulate(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<SimulateForm>,
) -> Result<Response, PageError> {
    let mut page = PolicyPage::load(&state, &session, id).await?;
    let outcome = run_simulation(&state, &session, id, &form).await;
    page.simulate = form;
    match outcome {
        Ok(rows) => {
            page.simulation = rows;
            render(&page)
        }
        Err(error) => {
            page.errors = form_errors(error)?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

async fn run_simulation(
    state: &AppState,
    session: &UserSession,
    id: ServerId,
    form: &SimulateForm,
) -> Result<Vec<SimulatedRow>, ApiError> {
    let arguments: Value = if form.arguments.trim().is_empty() {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_str(&form.arguments)
            .map_err(|e| ApiError::invalid("/arguments", format!("not valid JSON: {e}")))?
    };
    let times = match form.times.trim() {
        "" => 1,
        text => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or(ApiError::invalid(
                "/times",
                "must be a whole number from 1 to 100",
            ))?,
    };
    if form.tool.trim().is_empty() {
        return Err(ApiError::invalid("/tool", "choose a tool"));
    }
    let calls = (0..times)
        .map(|_| SimulateCall {
            tool: form.tool.trim().to_owned(),
            arguments: arguments.clone(),
            grant: None,
            at: None,
        })
        .collect();
    let decisions = domain::simulate(state, session.caller.tenant, id, None, calls).await?;
    Ok(decisions
        .into_iter()
        .enumerate()
        .map(|(index, decision)| SimulatedRow {
            number: index + 1,
            outcome: match decision.outcome {
                Outcome::Allow => "allow",
                Outcome::Deny => "deny",
                Outcome::RequireApproval => "require_approval",
            },
            rule: decision.rule.to_string(),
            reason: decision.reason.as_deref().unwrap_or("").to_owned(),
        })
        .collect())
}
