//! An invitation's link: the person it names joins by signing up, or, signed in
//! with that address, by accepting.

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::members::{self, OpenInvitation};
use mcpgate_store::sessions;
use serde::Deserialize;

use crate::access::trail::member_joined;
use crate::dashboard::account::begin_session;
use crate::dashboard::auth::EmptyForm;
use crate::dashboard::grants::time;
use crate::dashboard::page::{form_errors, render_with, FieldError, PageError};
use crate::dashboard::session::{
    cookie, set_cookie, CsrfForm, LoginCsrfForm, UserSession, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
};
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "join.html")]
struct JoinPage {
    token: String,
    tenant_name: String,
    email: String,
    role: String,
    expires: String,
    /// Signed in: with the invited address (`Some(true)`) or another (`Some(false)`).
    signed_in_as: Option<(String, bool)>,
    csrf: String,
    errors: Vec<FieldError>,
}

const GONE: ApiError = ApiError::NotFound("invitation (it was used, revoked or has expired)");

fn join_page(
    invitation: &OpenInvitation,
    token: String,
    session: Option<&UserSession>,
    csrf: String,
) -> JoinPage {
    JoinPage {
        token,
        tenant_name: invitation.tenant_name.clone(),
        email: invitation.email.clone(),
        role: invitation.role.to_string(),
        expires: time(invitation.expires_at),
        signed_in_as: session.map(|session| {
            let same = session.email.eq_ignore_ascii_case(invitation.email.trim());
            (session.email.clone(), same)
        }),
        csrf,
        errors: Vec::new(),
    }
}

/// The pre-login token for the sign-up form: the browser's, or a new one.
fn signup_token(
    state: &AppState,
    headers: &HeaderMap,
) -> (String, Option<axum::http::HeaderValue>) {
    match cookie(headers, LOGIN_CSRF_COOKIE) {
        Some(token) if token.len() >= 32 => (token.to_owned(), None),
        _ => {
            let token = mcpgate_auth::random_token(32);
            let set = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
            (token, Some(set))
        }
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
    session: Option<UserSession>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let invitation = members::open_invitation(&state.db, &token)
        .await?
        .ok_or(GONE)?;
    let (csrf, set) = match &session {
        Some(session) => (session.csrf.clone(), None),
        None => signup_token(&state, &headers),
    };
    let page = join_page(&invitation, token, session.as_ref(), csrf);
    let mut response = render_with(StatusCode::OK, &page)?;
    if let Some(set) = set {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, set);
    }
    Ok(response)
}

fn client(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Option<IpAddr> {
    Some(state.trusted_proxies.client_ip(peer.ip(), headers))
}

/// A signed-in person with the invited address joins, and this session moves there.
pub(crate) async fn accept(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let invitation = members::accept_invitation(&state.db, &token, session.user)
        .await
        .map_err(|e| crate::domain::not_found_as(e, "invitation"))?;
    let secret = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    sessions::switch_tenant(&state.db, secret, session.user, invitation.tenant_id).await?;
    let from = client(&state, peer, &headers);
    member_joined(&state, session.user, &session.email, &invitation, from).await;
    Ok(Redirect::to("/servers").into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignupForm {
    #[serde(default)]
    password: String,
}

/// A new person signs up with the invited address and joins.
pub(crate) async fn sign_up(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
    submitted: LoginCsrfForm<SignupForm>,
) -> Result<Response, PageError> {
    let invitation = members::open_invitation(&state.db, &token)
        .await?
        .ok_or(GONE)?;
    let joined = async {
        mcpgate_auth::validate_password(&submitted.form.password)
            .map_err(|error| ApiError::invalid("/password", error.to_string()))?;
        let hash = state
            .passwords
            .hash(submitted.form.password.clone())
            .await?;
        let (user, joined) =
            members::sign_up_invited(&state.db, &token, &invitation.email, &hash).await?;
        Ok::<_, ApiError>((user, joined))
    }
    .await;
    match joined {
        Ok((user, joined)) => {
            member_joined(&state, user, &joined.email, &joined, submitted.client).await;
            begin_session(&state, joined.tenant_id, user).await
        }
        Err(error) => {
            let csrf = cookie(&submitted.headers, LOGIN_CSRF_COOKIE)
                .unwrap_or_default()
                .to_owned();
            let mut page = join_page(&invitation, token, None, csrf);
            page.errors = form_errors(error)?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
