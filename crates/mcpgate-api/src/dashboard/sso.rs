//! Single sign-on in the dashboard: "Sign in with SSO" from the login page, the
//! provider's callback (a refusal is an error page saying why), and the admin's
//! settings form.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::Role;
use serde::Deserialize;

use crate::dashboard::auth::{start_session_via, EmptyForm};
use crate::dashboard::page::{form_errors, render, render_with, FieldError, PageError};
use crate::dashboard::session::{cookie, set_cookie, CsrfForm, Nav, UserSession};
use crate::sso::flow::{self, Callback, FlowError, LOGIN_MINUTES};
use crate::sso::settings::{self, redirect_uri, SsoInput, SsoSettings};
use crate::sso::SsoRefusal;
use crate::state::AppState;

/// The cookie that holds a sign-in's state from the start to the callback.
const SSO_STATE_COOKIE: &str = "mcpgate_sso_state";

#[derive(Template)]
#[template(path = "error.html")]
struct RefusedPage {
    title: String,
    message: String,
    status: u16,
}

/// A refusal as the error page (and the state cookie cleared).
fn refused(state: &AppState, error: FlowError) -> Result<Response, PageError> {
    let refusal: SsoRefusal = match error {
        FlowError::Refused(refusal) => refusal,
        FlowError::Internal(error) => return Err(PageError(error)),
    };
    let status = refusal.status();
    tracing::info!(%refusal, "single sign-on refused");
    let page = RefusedPage {
        title: "Single sign-on refused".to_owned(),
        message: refusal.to_string(),
        status: status.as_u16(),
    };
    let mut response = render_with(status, &page)?;
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(state, SSO_STATE_COOKIE, "", 0),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartQuery {
    #[serde(default)]
    email: String,
}

/// `GET /sso/start?email=`: to the provider of the email's domain.
pub(crate) async fn start(
    State(state): State<AppState>,
    Query(query): Query<StartQuery>,
) -> Result<Response, PageError> {
    match flow::start(&state, &query.email).await {
        Ok(started) => {
            let mut response = Redirect::to(&started.authorization_url).into_response();
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, SSO_STATE_COOKIE, &started.state, LOGIN_MINUTES * 60),
            );
            Ok(response)
        }
        Err(error) => refused(&state, error),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct CallbackQuery {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// `GET /sso/callback`: the provider sends the browser back here.
pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, PageError> {
    if let Some(error) = query.error {
        let reason = match query.error_description {
            Some(description) => format!("{error} ({description})"),
            None => error,
        };
        return refused(&state, SsoRefusal::ProviderRefused(reason).into());
    }
    let (Some(code), Some(login_state)) = (query.code.as_deref(), query.state.as_deref()) else {
        return refused(&state, SsoRefusal::UnknownState.into());
    };
    let finished = flow::finish(
        &state,
        &Callback {
            code,
            state: login_state,
            browser_state: cookie(&headers, SSO_STATE_COOKIE),
        },
    )
    .await;
    match finished {
        Ok(signed_in) => {
            let mut response = start_session_via(
                &state,
                signed_in.tenant,
                signed_in.user,
                None,
                Some(signed_in.tenant),
            )
            .await?;
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, SSO_STATE_COOKIE, "", 0),
            );
            Ok(response)
        }
        Err(error) => refused(&state, error),
    }
}

#[derive(Template)]
#[template(path = "sso_settings.html")]
struct SettingsPage {
    nav: Nav,
    current: Option<SsoSettings>,
    redirect_uri: String,
    /// The form's values (the current settings, or what was submitted).
    issuer: String,
    client_id: String,
    email_domain: String,
    sso_only: bool,
    auto_join_role: String,
    roles: Vec<String>,
    errors: Vec<FieldError>,
    saved: bool,
}

fn page(
    state: &AppState,
    session: &UserSession,
    current: Option<SsoSettings>,
    form: Option<&SettingsForm>,
) -> SettingsPage {
    let (issuer, client_id, email_domain, sso_only, auto_join_role) = match (form, &current) {
        (Some(form), _) => (
            form.issuer.clone(),
            form.client_id.clone(),
            form.email_domain.clone(),
            form.sso_only.is_some(),
            form.auto_join_role.clone(),
        ),
        (None, Some(current)) => (
            current.issuer.clone(),
            current.client_id.clone(),
            current.email_domain.clone(),
            current.sso_only,
            current
                .auto_join_role
                .map(|role| role.to_string())
                .unwrap_or_default(),
        ),
        (None, None) => Default::default(),
    };
    SettingsPage {
        nav: session.nav("settings"),
        current,
        redirect_uri: redirect_uri(state),
        issuer,
        client_id,
        email_domain,
        sso_only,
        auto_join_role,
        roles: Role::ALL.iter().map(|role| role.to_string()).collect(),
        errors: Vec::new(),
        saved: false,
    }
}

/// `GET /settings/sso`.
pub(crate) async fn show(
    State(state): State<AppState>,
    session: UserSession,
) -> Result<Response, PageError> {
    let current = settings::show(&state, session.caller.tenant).await?;
    render(&page(&state, &session, current, None))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingsForm {
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    email_domain: String,
    #[serde(default)]
    sso_only: Option<String>,
    /// Empty: auto-join off.
    #[serde(default)]
    auto_join_role: String,
}

/// `POST /settings/sso`.
pub(crate) async fn save(
    State(state): State<AppState>,
    submitted: CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    let CsrfForm { session, form, .. } = submitted;
    let auto_join_role = match form.auto_join_role.trim() {
        "" => Ok(None),
        name => name.parse::<Role>().map(Some),
    };
    let result = match auto_join_role {
        Ok(auto_join_role) => {
            let input = SsoInput {
                issuer: form.issuer.clone(),
                client_id: form.client_id.clone(),
                client_secret: Some(form.client_secret.clone()),
                email_domain: form.email_domain.clone(),
                sso_only: form.sso_only.is_some(),
                auto_join_role,
            };
            settings::save(&state, session.caller.tenant, input).await
        }
        Err(unknown) => Err(crate::error::ApiError::BadRequest(unknown.to_string())),
    };
    match result {
        Ok(saved) => {
            let mut shown = page(&state, &session, Some(saved), None);
            shown.saved = true;
            render(&shown)
        }
        Err(error) => {
            let current = settings::show(&state, session.caller.tenant).await?;
            let mut shown = page(&state, &session, current, Some(&form));
            shown.errors = form_errors(error)?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &shown)
        }
    }
}

/// `POST /settings/sso/remove`.
pub(crate) async fn remove(
    State(state): State<AppState>,
    submitted: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    settings::remove(&state, submitted.session.caller.tenant).await?;
    Ok(Redirect::to("/settings/sso").into_response())
}
