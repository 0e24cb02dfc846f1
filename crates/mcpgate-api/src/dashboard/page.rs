//! Rendering pages and errors as HTML: an `ApiError` keeps its status, gets a
//! page instead of a JSON body, and a missing session becomes a redirect.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mcpgate_store::StoreError;

use crate::error::ApiError;

/// A dashboard request's failure: the API's error, rendered for a person.
#[derive(Debug)]
pub(crate) struct PageError(pub(crate) ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        PageError(error.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
    status: u16,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let ApiError::Unauthorized(_) = self.0 {
            return Redirect::to("/login").into_response();
        }
        let message = match &self.0 {
            ApiError::Internal(_) => {
                "Something went wrong on our side; it has been logged.".to_owned()
            }
            other => other.to_string(),
        };
        // The API's mapping decides the status (and logs internal errors once).
        let api_response = self.0.into_response();
        let status = api_response.status();
        let page = ErrorPage {
            title: status
                .canonical_reason()
                .unwrap_or("Something went wrong")
                .to_owned(),
            message,
            status: status.as_u16(),
        };
        let mut response = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(error) => {
                tracing::error!(%error, "could not render the error page");
                (status, page.message).into_response()
            }
        };
        if let Some(retry) = api_response.headers().get(header::RETRY_AFTER) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, retry.clone());
        }
        response
    }
}

/// Renders a template with status 200.
pub(crate) fn render(template: &impl Template) -> Result<Response, PageError> {
    render_with(StatusCode::OK, template)
}

/// Renders a template with `status` (422 for a form shown again with its errors).
pub(crate) fn render_with(
    status: StatusCode,
    template: &impl Template,
) -> Result<Response, PageError> {
    let html = template
        .render()
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("rendering a page: {error}")))?;
    Ok((status, Html(html)).into_response())
}

/// A problem to show next to a form field, with the JSON path it came from.
#[derive(Debug, Clone)]
pub(crate) struct FieldError {
    pub(crate) path: String,
    pub(crate) message: String,
}

/// Splits an error into what a form can show next to its fields (validation,
/// conflicts, the upstream's fault) and what it cannot (everything else).
pub(crate) fn form_errors(error: ApiError) -> Result<Vec<FieldError>, PageError> {
    match error {
        ApiError::Validation {
            details, message, ..
        } => {
            let listed: Vec<FieldError> = details
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|item| FieldError {
                            path: item["path"].as_str().unwrap_or("").to_owned(),
                            message: item["message"].as_str().unwrap_or("").to_owned(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            if listed.is_empty() {
                Ok(vec![FieldError {
                    path: String::new(),
                    message,
                }])
            } else {
                Ok(listed)
            }
        }
        ApiError::Conflict { message, .. } => Ok(vec![FieldError {
            path: String::new(),
            message,
        }]),
        ApiError::BadRequest(message) => Ok(vec![FieldError {
            path: String::new(),
            message,
        }]),
        ApiError::Upstream(error) => Ok(vec![FieldError {
            path: "/url".into(),
            message: error.to_string(),
        }]),
        other @ (ApiError::Unauthorized(_)
        | ApiError::Forbidden(_)
        | ApiError::Denied { .. }
        | ApiError::NotFound(_)
        | ApiError::PayloadTooLarge
        | ApiError::TooManyRequests { .. }
        | ApiError::Busy { .. }
        | ApiError::Internal(_)) => Err(PageError(other)),
    }
}
