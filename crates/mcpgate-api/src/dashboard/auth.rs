//! Signing up, logging in (rate-limited) and out.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use mcpgate_store::sessions::{self, LoginAttempt, NewSession};
use mcpgate_store::{accounts, TenantId, UserId};
use serde::Deserialize;

use crate::dashboard::page::{form_errors, render_with, FieldError, PageError};
use crate::dashboard::session::{
    cookie, set_cookie, CsrfForm, LoginCsrfForm, UserSession, LOGIN_CSRF_COOKIE, SESSION_COOKIE,
    SESSION_HOURS,
};
use crate::domain::accounts::{sign_up, SignupRequest};
use crate::error::ApiError;
use crate::state::AppState;

/// Failed logins allowed per email and address within the window.
const MAX_FAILURES: u64 = 5;
const FAILURE_WINDOW_SECS: u64 = 15 * 60;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    email: String,
    error: Option<String>,
    /// Where to go once logged in (an OAuth authorization request), if not the servers.
    next: Option<String>,
}

/// `?next=`: only an OAuth authorization request of ours or a grant's upstream connect
/// page, so the login page cannot be made to send a browser anywhere else.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

fn safe_next(next: Option<String>) -> Option<String> {
    next.filter(|next| {
        (next.starts_with("/oauth/authorize?")
            || crate::dashboard::grant_connect::is_connect_path(next))
            && !next.contains(['\\', '\r', '\n'])
    })
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    csrf: String,
    email: String,
    tenant_name: String,
    errors: Vec<FieldError>,
}

/// The pre-login token: the browser's, or a new one set alongside the page.
pub(crate) fn login_token(
    state: &AppState,
    headers: &HeaderMap,
) -> (String, Option<header::HeaderValue>) {
    match cookie(headers, LOGIN_CSRF_COOKIE) {
        Some(token) if token.len() >= 32 => (token.to_owned(), None),
        _ => {
            let token = mcpgate_auth::random_token(32);
            let set = set_cookie(state, LOGIN_CSRF_COOKIE, &token, 3600);
            (token, Some(set))
        }
    }
}

pub(crate) fn with_cookie(mut response: Response, set: Option<header::HeaderValue>) -> Response {
    if let Some(set) = set {
        response.headers_mut().append(header::SET_COOKIE, set);
    }
    response
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    session: Option<UserSession>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<NextQuery>,
) -> Result<Response, PageError> {
    let next = safe_next(query.next);
    if session.is_some() {
        return Ok(Redirect::to(next.as_deref().unwrap_or("/servers")).into_response());
    }
    let (csrf, set) = login_token(&state, &headers);
    let page = LoginPage {
        csrf,
        email: String::new(),
        error: None,
        next,
    };
    Ok(with_cookie(render_with(StatusCode::OK, &page)?, set))
}

pub(crate) async fn signup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, set) = login_token(&state, &headers);
    let page = SignupPage {
        csrf,
        email: String::new(),
        tenant_name: String::new(),
        errors: Vec::new(),
    };
    Ok(with_cookie(render_with(StatusCode::OK, &page)?, set))
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    submitted: LoginCsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    let LoginForm {
        email,
        password,
        next,
    } = submitted.form;
    let next = safe_next(next);
    let csrf = cookie(&submitted.headers, LOGIN_CSRF_COOKIE)
        .unwrap_or_default()
        .to_owned();
    // The client's address: the peer, or behind a trusted proxy its X-Forwarded-For.
    let client = submitted
        .client
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let limit_key = format!(
        "dashboard:login-failures:{}:{client}",
        email.trim().to_lowercase()
    );
    // Counted before the (slow) check, so parallel guesses cannot all run: the sixth
    // of six at once is refused here without hashing.
    if let LoginAttempt::Refused { retry_after_secs } =
        sessions::reserve_login_attempt(&state.redis, &limit_key, MAX_FAILURES, FAILURE_WINDOW_SECS)
            .await?
    {
        let minutes = retry_after_secs.div_ceil(60).max(1);
        let page = LoginPage {
            csrf,
            email,
            error: Some(format!(
                "Too many failed logins for this email. Try again in {minutes} minute{}.",
                if minutes == 1 { "" } else { "s" }
            )),
            next,
        };
        let mut response = render_with(StatusCode::TOO_MANY_REQUESTS, &page)?;
        if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }

    let checked = check_password(&state, &email, password).await;
    let found = match checked {
        Ok(found) => found,
        Err(error) => {
            // Not checked (too busy, or the database failed): the attempt is given back.
            if let Err(release) = sessions::release_login_attempt(&state.redis, &limit_key).await {
                tracing::warn!(error = %release, "could not give back a login attempt");
            }
            return Err(PageError(error));
        }
    };
    let Some(user) = found else {
        // The reservation stays: it is this failure's count.
        let page = LoginPage {
            csrf,
            email,
            error: Some("Wrong email or password.".into()),
            next,
        };
        return render_with(StatusCode::UNAUTHORIZED, &page);
    };
    sessions::clear_login_failures(&state.redis, &limit_key).await?;
    // The tenant signs its members in only through its identity provider.
    if mcpgate_store::sso::sso_only(&state.db, user.tenant_id).await? {
        let page = LoginPage {
            csrf,
            email,
            error: Some(
                "This tenant signs in only with single sign-on: use “Sign in with SSO” below."
                    .into(),
            ),
            next,
        };
        return render_with(StatusCode::FORBIDDEN, &page);
    }
    start_session(&state, user.tenant_id, user.id, next.as_deref()).await
}

/// The account if `password` is its password; `None` for a wrong password or an
/// unknown email (checked against a fixed hash, so timing does not reveal accounts).
async fn check_password(
    state: &AppState,
    email: &str,
    password: String,
) -> Result<Option<accounts::UserCredentials>, ApiError> {
    let found = accounts::user_credentials(&state.db, email).await?;
    let stored = found.as_ref().map(|user| user.password_hash.clone());
    let matches = state.passwords.verify(password, stored).await?;
    Ok(found.filter(|_| matches))
}

/// Creates a session and sends the browser to its servers.
async fn start_session(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
    next: Option<&str>,
) -> Result<Response, PageError> {
    start_session_via(state, tenant, user, next, None).await
}

/// [`start_session`], saying whose identity provider signed the person in (`sso`): a
/// tenant with SSO only admits sessions its own provider started
/// (`sessions::live_session`).
pub(crate) async fn start_session_via(
    state: &AppState,
    tenant: TenantId,
    user: UserId,
    next: Option<&str>,
    sso: Option<TenantId>,
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
    if let Some(sso_tenant) = sso {
        mcpgate_store::sso::mark_sso_session(&state.db, &secret, sso_tenant).await?;
    }
    // Logins are rare; sweeping expired sessions here needs no background job.
    if let Err(error) = sessions::delete_expired_sessions(&state.db).await {
        tracing::warn!(%error, "could not sweep expired dashboard sessions");
    }
    let mut response = Redirect::to(next.unwrap_or("/servers")).into_response();
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
pub(crate) struct SignupForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    tenant_name: String,
}

pub(crate) async fn signup(
    State(state): State<AppState>,
    submitted: LoginCsrfForm<SignupForm>,
) -> Result<Response, PageError> {
    let SignupForm {
        email,
        password,
        tenant_name,
    } = submitted.form;
    let request = SignupRequest {
        email: email.clone(),
        password,
        tenant_name: tenant_name.clone(),
    };
    match sign_up(&state, request).await {
        Ok(signed_up) => start_session(&state, signed_up.tenant.id, signed_up.user.id, None).await,
        Err(error) => {
            let page = SignupPage {
                csrf: cookie(&submitted.headers, LOGIN_CSRF_COOKIE)
                    .unwrap_or_default()
                    .to_owned(),
                email,
                tenant_name,
                errors: form_errors(error)?,
            };
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct EmptyForm {}

pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    _form: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        sessions::delete_session(&state.db, secret).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}
