//! API keys: create (shown once), list, revoke.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::accounts::{self, ApiKey};
use mcpgate_store::{ApiKeyId, Role};
use serde::Deserialize;

use crate::dashboard::auth::EmptyForm;
use crate::dashboard::grants::time;
use crate::dashboard::page::{form_errors, render, render_with, FieldError, PageError};
use crate::dashboard::session::{CsrfForm, Nav, UserSession};
use crate::domain::accounts::new_api_key;
use crate::domain::not_found_as;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    nav: Nav,
    keys: Vec<KeyRow>,
    new_key: Option<String>,
    errors: Vec<FieldError>,
}

struct KeyRow {
    key: ApiKey,
    created: String,
    last_used: String,
}

async fn page(state: &AppState, session: &UserSession) -> Result<ApiKeysPage, PageError> {
    let keys = accounts::list_api_keys(&state.db, session.caller.tenant)
        .await?
        .into_iter()
        .map(|key| KeyRow {
            created: time(key.created_at),
            last_used: key.last_used_at.map_or_else(|| "never".into(), time),
            key,
        })
        .collect();
    Ok(ApiKeysPage {
        nav: session.nav("api-keys"),
        keys,
        new_key: None,
        errors: Vec::new(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    session: UserSession,
) -> Result<Response, PageError> {
    render(&page(&state, &session).await?)
}

#[derive(Debug, Deserialize)]
pub(crate) struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    CsrfForm { session, form, .. }: CsrfForm<CreateForm>,
) -> Result<Response, PageError> {
    let role = if form.role.is_empty() {
        Ok(Role::Admin)
    } else {
        form.role
            .parse::<Role>()
            .map_err(|error| ApiError::invalid("/role", error.to_string()))
    };
    let created = match role {
        Ok(role) => new_api_key(&state, session.caller.tenant, &form.name, role).await,
        Err(error) => Err(error),
    };
    match created {
        Ok(created) => {
            let mut page = page(&state, &session).await?;
            page.new_key = Some(created.key_secret);
            render_with(StatusCode::CREATED, &page)
        }
        Err(error) => {
            let errors = form_errors(error)?;
            let mut page = page(&state, &session).await?;
            page.errors = errors;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    PathParams(id): PathParams<ApiKeyId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    accounts::revoke_api_key(&state.db, session.caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "API key"))?;
    Ok(Redirect::to("/api-keys").into_response())
}
