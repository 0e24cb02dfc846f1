//! Password reset pages: "forgot password" (mails a link when an SMTP server is
//! configured, answering alike whether or not the address has an account) and the
//! link's page, which sets the new password and ends every session of the person.

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use mcpgate_store::password_resets;
use serde::Deserialize;

use crate::dashboard::auth::{login_token, with_cookie};
use crate::dashboard::grants::time;
use crate::dashboard::page::{render_with, PageError};
use crate::dashboard::session::{cookie, LoginCsrfForm, LOGIN_CSRF_COOKIE};
use crate::domain::password_reset::RESET_MINUTES;
use crate::domain::password_reset::{request_by_mail, reset as use_link, ResetRequest};
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    csrf: String,
    /// Whether links can be mailed here at all.
    mail: bool,
    email: String,
    sent: bool,
    minutes: i64,
    error: Option<String>,
}

impl ForgotPage {
    fn new(state: &AppState, csrf: String) -> Self {
        Self {
            csrf,
            mail: state.mailer.is_some(),
            email: String::new(),
            sent: false,
            minutes: RESET_MINUTES,
            error: None,
        }
    }
}

/// `GET /forgot-password`.
pub(crate) async fn forgot_page(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (csrf, set) = login_token(&state, &headers);
    let page = ForgotPage::new(&state, csrf);
    Ok(with_cookie(render_with(StatusCode::OK, &page)?, set))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ForgotForm {
    #[serde(default)]
    email: String,
}

/// `POST /forgot-password`.
pub(crate) async fn forgot(
    State(state): State<AppState>,
    submitted: LoginCsrfForm<ForgotForm>,
) -> Result<Response, PageError> {
    let csrf = cookie(&submitted.headers, LOGIN_CSRF_COOKIE)
        .unwrap_or_default()
        .to_owned();
    let mut page = ForgotPage::new(&state, csrf);
    page.email = submitted.form.email.trim().to_owned();
    match request_by_mail(&state, &submitted.form.email).await {
        Ok(ResetRequest::Accepted) => {
            page.sent = true;
            render_with(StatusCode::OK, &page)
        }
        Ok(ResetRequest::Limited { retry_after_secs }) => {
            let minutes = retry_after_secs.div_ceil(60).max(1);
            page.error = Some(format!(
                "Too many reset requests for this address. Try again in {minutes} minute(s)."
            ));
            let mut response = render_with(StatusCode::TOO_MANY_REQUESTS, &page)?;
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(ApiError::Validation { message, .. }) => {
            page.error = Some(message);
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(error) => Err(PageError(error)),
    }
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    csrf: String,
    token: String,
    email: String,
    expires: String,
    error: Option<String>,
    /// Once set: how many sessions ended.
    done: Option<u64>,
}

const GONE: ApiError =
    ApiError::NotFound("reset link (it was used, replaced by a newer one or has expired)");

/// `GET /reset-password/{token}`.
pub(crate) async fn reset_page(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let open = password_resets::open_reset(&state.db, &token)
        .await?
        .ok_or(GONE)?;
    let (csrf, set) = login_token(&state, &headers);
    let page = ResetPage {
        csrf,
        token,
        email: open.email,
        expires: time(open.expires_at),
        error: None,
        done: None,
    };
    Ok(with_cookie(render_with(StatusCode::OK, &page)?, set))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResetForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

/// `POST /reset-password/{token}`.
pub(crate) async fn reset(
    State(state): State<AppState>,
    PathParams(token): PathParams<String>,
    submitted: LoginCsrfForm<ResetForm>,
) -> Result<Response, PageError> {
    let open = password_resets::open_reset(&state.db, &token).await?;
    let form = submitted.form;
    let refuse = |email: String, expires: String, message: String| {
        let page = ResetPage {
            csrf: cookie(&submitted.headers, LOGIN_CSRF_COOKIE)
                .unwrap_or_default()
                .to_owned(),
            token: token.clone(),
            email,
            expires,
            error: Some(message),
            done: None,
        };
        render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    if let Some(open) = &open {
        if form.new_password != form.confirm_password {
            return refuse(
                open.email.clone(),
                time(open.expires_at),
                "The new password and its confirmation differ.".into(),
            );
        }
    }
    // A used or expired link is refused by the store, in the transaction that would use it.
    match use_link(&state, &token, form.new_password).await {
        Ok(used) => {
            tracing::info!(user = %used.user_id, sessions_ended = used.sessions_ended, "password reset by link");
            let page = ResetPage {
                csrf: String::new(),
                token: String::new(),
                email: used.email,
                expires: String::new(),
                error: None,
                done: Some(used.sessions_ended),
            };
            render_with(StatusCode::OK, &page)
        }
        Err(ApiError::Validation {
            details, message, ..
        }) => match open {
            Some(open) => {
                let reason = details[0]["message"]
                    .as_str()
                    .map_or(message, |reason| format!("The new password: {reason}."));
                refuse(open.email, time(open.expires_at), reason)
            }
            None => Err(PageError(GONE)),
        },
        Err(error) => Err(PageError(error)),
    }
}
