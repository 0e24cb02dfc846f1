//! Connecting an agent to a server: its proxy URL, a grant (issued here, its
//! token shown once), and client snippets with that token filled in.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use mcpgate_store::grants::{self, Grant};
use mcpgate_store::servers::{self, Server};
use mcpgate_store::ServerId;
use serde::Deserialize;

use crate::dashboard::grants::parse_expiry;
use crate::dashboard::page::{form_errors, render, render_with, FieldError, PageError};
use crate::dashboard::session::{CsrfForm, Nav, UserSession};
use crate::dashboard::snippets::{snippets, Snippet, TOKEN_PLACEHOLDER};
use crate::domain::grants::{self as domain, CreateGrant, ServersSpec};
use crate::domain::not_found_as;
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "connect.html")]
struct ConnectPage {
    nav: Nav,
    server: Server,
    proxy_url: String,
    grants: Vec<Grant>,
    token: Option<String>,
    issued_to: Option<String>,
    snippets: Vec<Snippet>,
    errors: Vec<FieldError>,
}

async fn page(
    state: &AppState,
    session: &UserSession,
    id: ServerId,
    issued: Option<(String, String)>,
) -> Result<ConnectPage, PageError> {
    let tenant = session.caller.tenant;
    let server = servers::server(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let proxy_url = state.urls.proxy_url(id);
    let grants = grants::list_grants(&state.db, tenant)
        .await?
        .into_iter()
        .filter(|grant| grant.revoked_at.is_none())
        .filter(|grant| {
            grant
                .server_ids
                .as_ref()
                .is_none_or(|ids| ids.contains(&id.as_uuid()))
        })
        .collect();
    let token = issued.as_ref().map(|(_, token)| token.as_str());
    Ok(ConnectPage {
        nav: session.nav("servers"),
        snippets: snippets(&server.name, &proxy_url, token.unwrap_or(TOKEN_PLACEHOLDER)),
        token: token.map(str::to_owned),
        issued_to: issued.map(|(name, _)| name),
        server,
        proxy_url,
        grants,
        errors: Vec::new(),
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    session: UserSession,
    PathParams(id): PathParams<ServerId>,
) -> Result<Response, PageError> {
    render(&page(&state, &session, id, None).await?)
}

#[derive(Debug, Deserialize)]
pub(crate) struct IssueForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expires_at: String,
}

/// Creates a grant for this server only and shows its token with the snippets.
pub(crate) async fn issue(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<IssueForm>,
) -> Result<Response, PageError> {
    let created = match parse_expiry(&form.expires_at) {
        Ok(expires_at) => {
            domain::create(
                &state,
                session.caller.tenant,
                CreateGrant {
                    name: form.name.clone(),
                    servers: ServersSpec::Only(vec![id]),
                    expires_at,
                    policy: None,
                },
            )
            .await
        }
        Err(error) => Err(error),
    };
    match created {
        Ok(issued) => {
            let page = page(
                &state,
                &session,
                id,
                Some((issued.grant.name, issued.token)),
            )
            .await?;
            render_with(StatusCode::CREATED, &page)
        }
        Err(error) => {
            let errors = form_errors(error)?;
            let mut page = page(&state, &session, id, None).await?;
            page.errors = errors;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
