//! The connect page of one grant's own upstream OAuth connection (a server of the
//! `grant` scope): the URL the proxy's `-32042` answer carries. Opening it needs a
//! dashboard sign-in of a member of the grant's tenant (the login page returns here);
//! the page names the grant and the server, and its form (CSRF-checked) starts the
//! authorization-code flow for that grant, so a link alone connects nothing.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::{servers, GrantId, ServerId};

use crate::dashboard::auth::EmptyForm;
use crate::dashboard::page::{render, PageError};
use crate::dashboard::session::{CsrfForm, UserSession};
use crate::domain::not_found_as;
use crate::domain::upstream_oauth::{self as domain, per_grant};
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "grant_connect.html")]
struct GrantConnectPage {
    server_id: ServerId,
    server_name: String,
    grant_id: GrantId,
    grant_name: String,
    tenant_name: String,
    email: String,
    csrf: String,
}

/// The path of the page, as the login page's `?next=` takes it back.
fn path(server: ServerId, grant: GrantId) -> String {
    format!("/servers/{server}/grant-connect/{grant}")
}

/// Whether `next` is a connect page of this kind (the login page's redirect guard).
pub(crate) fn is_connect_path(next: &str) -> bool {
    let Some(rest) = next.strip_prefix("/servers/") else {
        return false;
    };
    let mut parts = rest.split('/');
    let (Some(server), Some("grant-connect"), Some(grant), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    server.parse::<ServerId>().is_ok() && grant.parse::<GrantId>().is_ok()
}

/// `GET /servers/{id}/grant-connect/{grant}`: the login page first, then this page.
pub(crate) async fn show(
    State(state): State<AppState>,
    session: Option<UserSession>,
    PathParams((id, grant)): PathParams<(ServerId, GrantId)>,
) -> Result<Response, PageError> {
    let Some(session) = session else {
        let next =
            url::form_urlencoded::byte_serialize(path(id, grant).as_bytes()).collect::<String>();
        return Ok(Redirect::to(&format!("/login?next={next}")).into_response());
    };
    let tenant = session.caller.tenant;
    let server = servers::server(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let found = per_grant::live_grant_of(&state, tenant, id, grant).await?;
    render(&GrantConnectPage {
        server_id: id,
        server_name: server.name,
        grant_id: grant,
        grant_name: found.name,
        tenant_name: session.tenant_name,
        email: session.email,
        csrf: session.csrf,
    })
}

/// `POST /servers/{id}/grant-connect/{grant}`: off to the authorization server.
pub(crate) async fn start(
    State(state): State<AppState>,
    PathParams((id, grant)): PathParams<(ServerId, GrantId)>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let (tenant, actor) = (session.caller.tenant, &session.caller.actor);
    let url = domain::start_for(&state, tenant, id, Some(grant), actor).await?;
    let server = servers::server(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    crate::dashboard::upstream_oauth::continue_to(&server.name, &url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_connect_page_of_a_server_and_grant_is_a_place_to_return_to() {
        let (server, grant) = (ServerId::new(), GrantId::new());
        assert!(is_connect_path(&path(server, grant)));
        assert!(!is_connect_path(&format!("{}/x", path(server, grant))));
        assert!(!is_connect_path(&format!("/servers/{server}/policy")));
        assert!(!is_connect_path("/servers/x/grant-connect/y"));
        assert!(!is_connect_path("//evil.example/servers/a/grant-connect/b"));
    }
}
