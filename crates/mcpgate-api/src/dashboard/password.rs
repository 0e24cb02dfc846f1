//! Changing one's password: the current one is checked (attempts limited like logins),
//! the new one validated and hashed, and every other session of the person ends.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mcpgate_store::accounts;
use mcpgate_store::sessions::{self, LoginAttempt};
use serde::Deserialize;

use crate::dashboard::page::{render, render_with, PageError};
use crate::dashboard::session::{cookie, CsrfForm, Nav, UserSession, SESSION_COOKIE};
use crate::error::ApiError;
use crate::state::AppState;

/// Wrong current passwords allowed per person within the window.
const MAX_FAILURES: u64 = 5;
const FAILURE_WINDOW_SECS: u64 = 15 * 60;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Nav,
    error: Option<String>,
    /// After a change: how many other sessions ended.
    changed: Option<u64>,
}

/// `GET /account/password`.
pub(crate) async fn show(session: UserSession) -> Result<Response, PageError> {
    render(&PasswordPage {
        nav: session.nav("password"),
        error: None,
        changed: None,
    })
}

#[derive(Debug, Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// `POST /account/password`.
pub(crate) async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { session, form, .. }: CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let refuse = |status: StatusCode, message: String| {
        render_with(
            status,
            &PasswordPage {
                nav: session.nav("password"),
                error: Some(message),
                changed: None,
            },
        )
    };
    if form.new_password != form.confirm_password {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The new password and its confirmation differ.".into(),
        );
    }
    if let Err(error) = mcpgate_auth::validate_password(&form.new_password) {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The new password: {error}."),
        );
    }
    // A stolen session must not make a password oracle: attempts are counted first.
    let limit_key = format!("dashboard:password-change-failures:{}", session.user);
    if let LoginAttempt::Refused { retry_after_secs } =
        sessions::reserve_login_attempt(&state.redis, &limit_key, MAX_FAILURES, FAILURE_WINDOW_SECS)
            .await?
    {
        let minutes = retry_after_secs.div_ceil(60).max(1);
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many wrong passwords. Try again in {minutes} minute(s)."),
        );
    }
    let stored = accounts::password_hash(&state.db, session.user).await?;
    let matches = match state
        .passwords
        .verify(form.current_password, Some(stored))
        .await
    {
        Ok(matches) => matches,
        Err(error) => {
            if let Err(release) = sessions::release_login_attempt(&state.redis, &limit_key).await {
                tracing::warn!(error = %release, "could not give back a password attempt");
            }
            return Err(PageError(error));
        }
    };
    if !matches {
        return refuse(
            StatusCode::FORBIDDEN,
            "The current password is wrong. (An account made by single sign-on has none: \
             sign in with SSO.)"
                .into(),
        );
    }
    sessions::clear_login_failures(&state.redis, &limit_key).await?;
    let hash = state.passwords.hash(form.new_password).await?;
    let secret = cookie(&headers, SESSION_COOKIE).ok_or(PageError(ApiError::Unauthorized(
        "log in to use the dashboard",
    )))?;
    let ended = accounts::change_password(&state.db, session.user, &hash, secret).await?;
    render(&PasswordPage {
        nav: session.nav("password"),
        error: None,
        changed: Some(ended),
    })
}
