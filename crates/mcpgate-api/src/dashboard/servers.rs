//! Servers: the list, adding one (discovery runs), and a server's tools with
//! their classification, evidence and what the active policy does to them.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::servers::{self, Server, Tool};
use mcpgate_store::{policies, ServerId};
use serde::Deserialize;

use crate::dashboard::page::{form_errors, render, render_with, FieldError, PageError};
use crate::dashboard::session::{CsrfForm, Nav, UserSession};
use crate::dashboard::tool_status::{tool_rows, ToolRow};
use crate::domain::servers::{self as domain, RegisterServer};
use crate::domain::{not_found_as, publish};
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "servers.html")]
struct ServersPage {
    nav: Nav,
    servers: Vec<Server>,
    form: AddServerForm,
    errors: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AddServerForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    header_name: String,
    #[serde(default)]
    header_value: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    session: UserSession,
) -> Result<Response, PageError> {
    let servers = servers::list_servers(&state.db, session.caller.tenant).await?;
    render(&ServersPage {
        nav: session.nav("servers"),
        servers,
        form: AddServerForm::default(),
        errors: Vec::new(),
    })
}

pub(crate) async fn add(
    State(state): State<AppState>,
    CsrfForm { session, form, .. }: CsrfForm<AddServerForm>,
) -> Result<Response, PageError> {
    let mut headers = std::collections::BTreeMap::new();
    if !form.header_name.trim().is_empty() {
        headers.insert(
            form.header_name.trim().to_ascii_lowercase(),
            form.header_value.clone(),
        );
    }
    let request = RegisterServer {
        name: form.name.clone(),
        url: form.url.clone(),
        headers,
        oauth: None,
    };
    match domain::register(&state, session.caller.tenant, request).await {
        Ok(server) => Ok(Redirect::to(&format!("/servers/{}", server.id)).into_response()),
        Err(error) => {
            let errors = form_errors(error)?;
            let servers = servers::list_servers(&state.db, session.caller.tenant).await?;
            // The secret header value is not echoed back into the page.
            let form = AddServerForm {
                header_value: String::new(),
                ..form
            };
            render_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ServersPage {
                    nav: session.nav("servers"),
                    servers,
                    form,
                    errors,
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "server.html")]
struct ServerPage {
    nav: Nav,
    server: Server,
    proxy_url: String,
    policy_version: Option<i32>,
    rows: Vec<ToolRow>,
    removed: Vec<Tool>,
    notice: Option<String>,
    /// The upstream OAuth connection, for a server that authenticates with OAuth.
    oauth: Option<crate::dashboard::upstream_oauth::OAuthPanel>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    session: UserSession,
    PathParams(id): PathParams<ServerId>,
) -> Result<Response, PageError> {
    server_page(&state, &session, id, None).await
}

async fn server_page(
    state: &AppState,
    session: &UserSession,
    id: ServerId,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let tenant = session.caller.tenant;
    let server = servers::server(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let tools = servers::list_tools(&state.db, tenant, id).await?;
    let active = policies::active_policy(&state.db, tenant, id).await?;
    let (removed, current): (Vec<Tool>, Vec<Tool>) = tools
        .into_iter()
        .partition(|tool| tool.removed_at.is_some());
    let rows = tool_rows(
        tenant,
        id,
        &current,
        active.as_ref().map(|p| p.document.as_str()),
    );
    let oauth = crate::dashboard::upstream_oauth::panel(state, tenant, id).await?;
    render(&ServerPage {
        nav: session.nav("servers"),
        oauth,
        proxy_url: state.urls.proxy_url(id),
        policy_version: active.map(|p| p.version),
        server,
        rows,
        removed,
        notice,
    })
}

pub(crate) async fn sync(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, .. }: CsrfForm<crate::dashboard::auth::EmptyForm>,
) -> Result<Response, PageError> {
    let report = domain::sync(&state, session.caller.tenant, id).await?;
    let notice = format!(
        "Re-synced: {} added, {} changed, {} removed, {} unchanged.",
        report.added.len(),
        report.changed.len(),
        report.removed.len(),
        report.unchanged
    );
    server_page(&state, &session, id, Some(notice)).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct ApproveForm {
    tool: String,
}

pub(crate) async fn approve_tool(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, form, .. }: CsrfForm<ApproveForm>,
) -> Result<Response, PageError> {
    let tenant = session.caller.tenant;
    servers::approve_tool(&state.db, tenant, id, &form.tool, &session.caller.actor)
        .await
        .map_err(|e| not_found_as(e, "tool"))?;
    publish(
        &state,
        mcpgate_store::changes::Change::Server { tenant, server: id },
    )
    .await;
    Ok(Redirect::to(&format!("/servers/{id}")).into_response())
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, .. }: CsrfForm<crate::dashboard::auth::EmptyForm>,
) -> Result<Response, PageError> {
    domain::delete(&state, session.caller.tenant, id).await?;
    Ok(Redirect::to("/servers").into_response())
}
