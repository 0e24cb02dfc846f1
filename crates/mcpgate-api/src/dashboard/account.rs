//! A person's own account across tenants: switching tenants, their sessions, and
//! signing out everywhere.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use mcpgate_store::sessions::{self, NewSession};
use mcpgate_store::{TenantId, UserId};
use serde::Deserialize;

use crate::dashboard::auth::EmptyForm;
use crate::dashboard::grants::time;
use crate::dashboard::page::{render, PageError};
use crate::dashboard::session::{
    cookie, set_cookie, CsrfForm, Nav, UserSession, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
    SESSION_HOURS,
};
use crate::error::ApiError;
use crate::state::AppState;

/// Starts a session for `user` in `tenant` (a membership) and sends the browser to
/// its servers.
pub(crate) async fn begin_session(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
) -> Result<Response, PageError> {
    let secret = mcpgate_auth::random_token(32);
    let csrf = mcpgate_auth::random_token(32);
    sessions::create_session(
        &state.db,
        tenant,
        &NewSession {
            secret: &secret,
            user_id: user,
            csrf_token: &csrf,
            expires_at: Utc::now() + Duration::hours(SESSION_HOURS),
        },
    )
    .await?;
    let mut response = Redirect::to("/servers").into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, SESSION_COOKIE, &secret, SESSION_HOURS * 3600),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, LOGIN_CSRF_COOKIE, "", 0),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct SwitchForm {
    #[serde(default)]
    tenant_id: String,
}

/// Moves this session to another of the person's tenants.
pub(crate) async fn switch_tenant(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { session, form, .. }: CsrfForm<SwitchForm>,
) -> Result<Response, PageError> {
    let tenant: TenantId = form
        .tenant_id
        .trim()
        .parse()
        .map_err(|_| ApiError::NotFound("tenant"))?;
    let secret = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    sessions::switch_tenant(&state.db, secret, session.user, tenant)
        .await
        .map_err(|e| crate::domain::not_found_as(e, "tenant"))?;
    Ok(Redirect::to("/servers").into_response())
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    nav: Nav,
    sessions: Vec<SessionRow>,
}

struct SessionRow {
    tenant_name: String,
    created: String,
    last_seen: String,
    expires: String,
    current: bool,
}

pub(crate) async fn list_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: UserSession,
) -> Result<Response, PageError> {
    let secret = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    let sessions = sessions::user_sessions(&state.db, session.user, secret)
        .await?
        .into_iter()
        .map(|found| SessionRow {
            tenant_name: found.tenant_name,
            created: time(found.created_at),
            last_seen: time(found.last_seen_at),
            expires: time(found.expires_at),
            current: found.current,
        })
        .collect();
    render(&SessionsPage {
        nav: session.nav("sessions"),
        sessions,
    })
}

/// Ends every session of the person, this one included, in every tenant.
pub(crate) async fn sign_out_everywhere(
    State(state): State<AppState>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    sessions::delete_user_sessions(&state.db, session.user).await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}
