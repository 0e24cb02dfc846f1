//! The token and registration endpoints' errors, as RFC 6749 §5.2 and RFC 7591 §3.2.2
//! spell them: `400 {"error", "error_description"}`, never cached.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::ApiError;

/// Why a token or registration request was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("grant_type must be authorization_code or refresh_token")]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidTarget(&'static str),
    #[error("{0}")]
    InvalidRedirectUri(String),
    #[error("{0}")]
    InvalidClientMetadata(String),
    /// Our side failed (the database): logged here, answered generically.
    #[error("the authorization server failed; try again")]
    Internal(#[source] ApiError),
}

impl From<mcpgate_store::StoreError> for OAuthError {
    fn from(error: mcpgate_store::StoreError) -> Self {
        OAuthError::Internal(error.into())
    }
}

impl From<ApiError> for OAuthError {
    fn from(error: ApiError) -> Self {
        OAuthError::Internal(error)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            OAuthError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            OAuthError::InvalidGrant(_) => (StatusCode::BAD_REQUEST, "invalid_grant"),
            OAuthError::UnsupportedGrantType => (StatusCode::BAD_REQUEST, "unsupported_grant_type"),
            OAuthError::InvalidTarget(_) => (StatusCode::BAD_REQUEST, "invalid_target"),
            OAuthError::InvalidRedirectUri(_) => (StatusCode::BAD_REQUEST, "invalid_redirect_uri"),
            OAuthError::InvalidClientMetadata(_) => {
                (StatusCode::BAD_REQUEST, "invalid_client_metadata")
            }
            OAuthError::Internal(error) => {
                tracing::error!(error = %error, "an OAuth request failed on our side");
                (StatusCode::INTERNAL_SERVER_ERROR, "server_error")
            }
        };
        let body = Json(json!({"error": code, "error_description": self.to_string()}));
        (status, [(header::CACHE_CONTROL, "no-store")], body).into_response()
    }
}
