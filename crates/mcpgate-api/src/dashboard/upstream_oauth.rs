//! The server page's "Connect" for an OAuth-protected upstream: the connection's status
//! and why, and the button that sends the person to the upstream's authorization server.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use mcpgate_store::upstream_oauth::{self as store, Connection, ConnectionScope, ConnectionStatus};
use mcpgate_store::{ServerId, TenantId};

use crate::dashboard::auth::EmptyForm;
use crate::dashboard::page::{render, PageError};
use crate::dashboard::session::CsrfForm;
use crate::domain::upstream_oauth as domain;
use crate::extract::PathParams;
use crate::state::AppState;

/// What the server page shows about the connection.
#[derive(Debug, Clone)]
pub(crate) struct OAuthPanel {
    /// `needs_connect`, `connected` or `needs_reconnect`.
    pub(crate) status: &'static str,
    /// Said to the person: what the status means.
    pub(crate) status_text: &'static str,
    /// Why it needs (re)connecting.
    pub(crate) reason: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) expires: Option<String>,
    /// "Connect" or "Reconnect".
    pub(crate) action: &'static str,
}

/// The panel for `server`, if it authenticates with OAuth.
pub(crate) async fn panel(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Option<OAuthPanel>, PageError> {
    let Some(connection) = store::connection(&state.db, tenant, server).await? else {
        return Ok(None);
    };
    if connection.connection_scope == ConnectionScope::Grant {
        return Ok(Some(
            per_grant_panel(state, tenant, server, connection).await?,
        ));
    }
    let (status_text, action) = match connection.status {
        ConnectionStatus::NeedsConnect => ("needs connecting", "Connect"),
        ConnectionStatus::Connected if connection.refresh_failure.is_some() => {
            ("connected · authorization server unreachable", "Reconnect")
        }
        ConnectionStatus::Connected => ("connected", "Reconnect"),
        ConnectionStatus::NeedsReconnect => ("needs reconnecting", "Reconnect"),
    };
    let reason = connection.status_reason.or_else(|| {
        connection
            .refresh_failure
            .as_ref()
            .map(|failure| failure.describe())
    });
    Ok(Some(OAuthPanel {
        status: connection.status.as_str(),
        status_text,
        reason,
        issuer: connection.issuer,
        expires: connection
            .access_expires_at
            .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        action,
    }))
}

/// A per-grant server has no account-wide connection to make: each grant's person
/// connects from the link its agent's first call gets.
async fn per_grant_panel(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    connection: Connection,
) -> Result<OAuthPanel, PageError> {
    let grants = store::grant_connections(&state.db, tenant, server).await?;
    let connected = grants
        .iter()
        .filter(|grant| grant.status == ConnectionStatus::Connected)
        .count();
    Ok(OAuthPanel {
        status: "per_grant",
        status_text: "one connection per grant",
        reason: Some(format!(
            "{connected} grants connected, {} needing reconnect; each agent's first call \
             answers with the link its person connects at",
            grants.len() - connected
        )),
        issuer: connection.issuer,
        expires: None,
        action: "",
    })
}

/// `POST /servers/{id}/oauth-connect`: off to the authorization server.
pub(crate) async fn connect(
    State(state): State<AppState>,
    PathParams(id): PathParams<ServerId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let url = domain::start(&state, session.caller.tenant, id, &session.caller.actor).await?;
    let server = mcpgate_store::servers::server(&state.db, session.caller.tenant, id)
        .await
        .map_err(|e| crate::domain::not_found_as(e, "server"))?;
    continue_to(&server.name, &url)
}

/// The page a Connect form answers with: it moves on to the authorization server by
/// itself (a meta refresh) and links there. Not a 303: the dashboard's
/// `form-action 'self'` covers a form's redirects too, so browsers would refuse one
/// that leaves for the authorization server.
pub(crate) fn continue_to(server_name: &str, url: &str) -> Result<Response, PageError> {
    let authority = url::Url::parse(url)
        .ok()
        .and_then(|parsed| {
            parsed.host_str().map(|host| match parsed.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            })
        })
        .unwrap_or_else(|| url.to_owned());
    render(&ContinuePage {
        server_name,
        url,
        authority: &authority,
    })
}

#[derive(Template)]
#[template(path = "oauth_continue.html")]
struct ContinuePage<'a> {
    server_name: &'a str,
    url: &'a str,
    authority: &'a str,
}
