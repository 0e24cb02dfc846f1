//! Grants: list, create (token shown once), rotate (new token shown once), revoke.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use mcpgate_store::grants::{self, Grant};
use mcpgate_store::servers::{self, Server};
use mcpgate_store::{GrantId, ServerId};
use serde::Deserialize;

use crate::dashboard::auth::EmptyForm;
use crate::dashboard::page::{form_errors, render, render_with, FieldError, PageError};
use crate::dashboard::session::{CsrfForm, Nav, UserSession};
use crate::domain::grants::{self as domain, AllServers, ChangeGrant, CreateGrant, ServersSpec};
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "grants.html")]
struct GrantsPage {
    nav: Nav,
    grants: Vec<GrantRow>,
    servers: Vec<Server>,
    form: CreateForm,
    errors: Vec<FieldError>,
    token: Option<String>,
    issued_to: Option<String>,
}

struct GrantRow {
    grant: Grant,
    servers: String,
    status: &'static str,
}

impl GrantRow {
    fn expires(&self) -> String {
        self.grant.expires_at.map_or_else(|| "never".into(), time)
    }
    fn last_used(&self) -> String {
        self.grant.last_used_at.map_or_else(|| "never".into(), time)
    }
}

pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A `datetime-local` value (taken as UTC), or none when empty.
pub(crate) fn parse_expiry(text: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| Some(naive.and_utc()))
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|at| Some(at.to_utc()))
        })
        .ok_or(ApiError::invalid(
            "/expires_at",
            "must be a date and time like 2026-12-31T18:00 (UTC)",
        ))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_at: String,
    #[serde(default)]
    policy: String,
    #[serde(default)]
    all_servers: Option<String>,
}

async fn page(
    state: &AppState,
    session: &UserSession,
    form: CreateForm,
) -> Result<GrantsPage, PageError> {
    let tenant = session.caller.tenant;
    let servers = servers::list_servers(&state.db, tenant).await?;
    let now = Utc::now();
    let grants = grants::list_grants(&state.db, tenant)
        .await?
        .into_iter()
        .map(|grant| GrantRow {
            servers: match &grant.server_ids {
                None => "all servers".into(),
                Some(ids) => ids
                    .iter()
                    .map(|id| {
                        servers
                            .iter()
                            .find(|s| s.id.as_uuid() == *id)
                            .map_or_else(|| id.to_string(), |s| s.name.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            status: if grant.revoked_at.is_some() {
                "revoked"
            } else if grant.expires_at.is_some_and(|at| at <= now) {
                "expired"
            } else {
                "active"
            },
            grant,
        })
        .collect();
    Ok(GrantsPage {
        nav: session.nav("grants"),
        grants,
        servers,
        form,
        errors: Vec::new(),
        token: None,
        issued_to: None,
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    session: UserSession,
) -> Result<Response, PageError> {
    render(&page(&state, &session, CreateForm::default()).await?)
}

pub(crate) async fn create(
    State(state): State<AppState>,
    CsrfForm {
        session,
        form,
        pairs,
    }: CsrfForm<CreateForm>,
) -> Result<Response, PageError> {
    let selected: Vec<&str> = pairs
        .iter()
        .filter(|(key, _)| key == "servers")
        .map(|(_, value)| value.as_str())
        .collect();
    let request = async {
        let servers = if form.all_servers.is_some() {
            ServersSpec::All(AllServers::Star)
        } else {
            let ids = selected
                .iter()
                .map(|id| id.parse::<ServerId>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| ApiError::invalid("/servers", "unknown server"))?;
            ServersSpec::Only(ids)
        };
        let policy = Some(form.policy.trim()).filter(|p| !p.is_empty());
        domain::create(
            &state,
            session.caller.tenant,
            CreateGrant {
                name: form.name.clone(),
                servers,
                expires_at: parse_expiry(&form.expires_at)?,
                policy: policy.map(str::to_owned),
            },
        )
        .await
    };
    match request.await {
        Ok(issued) => {
            let mut page = page(&state, &session, CreateForm::default()).await?;
            page.token = Some(issued.token);
            page.issued_to = Some(issued.grant.name);
            render_with(StatusCode::CREATED, &page)
        }
        Err(error) => {
            let errors = form_errors(error)?;
            let mut page = page(&state, &session, form).await?;
            page.errors = errors;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub(crate) async fn rotate(
    State(state): State<AppState>,
    PathParams(id): PathParams<GrantId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let (grant, token) = domain::change(
        &state,
        session.caller.tenant,
        id,
        ChangeGrant {
            rotate: true,
            ..ChangeGrant::default()
        },
    )
    .await?;
    let mut page = page(&state, &session, CreateForm::default()).await?;
    page.token = token;
    page.issued_to = Some(grant.name);
    render(&page)
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    PathParams(id): PathParams<GrantId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    domain::revoke(&state, session.caller.tenant, id).await?;
    Ok(axum::response::Redirect::to("/grants").into_response())
}
