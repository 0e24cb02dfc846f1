//! The API's one error type, and the one place it becomes an HTTP answer:
//! `{"error": {"code", "message", "details"?}}` with the status that fits.

use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use mcpgate_store::StoreError;
use mcpgate_upstream::{BlockReason, DiscoveryError};
use serde_json::{json, Value};

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (bad JSON, bad path or query parameter).
    #[error("{0}")]
    BadRequest(String),
    /// No or bad credentials.
    #[error("authentication required: {0}")]
    Unauthorized(&'static str),
    /// Authenticated, but not allowed (e.g. a form without its CSRF token).
    #[error("{0}")]
    Forbidden(&'static str),
    /// The caller's role does not hold the permission the route requires.
    #[error("the {role} role may not {permission}")]
    Denied {
        role: mcpgate_store::Role,
        permission: &'static str,
    },
    /// No such resource for this tenant (also for another tenant's ids).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request conflicts with the current state.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Well-formed but invalid; `details` lists each problem with its path.
    #[error("{message}")]
    Validation {
        code: &'static str,
        message: String,
        details: Value,
    },
    /// The body is larger than the limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// Slow down.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// Too much expensive work at once (password hashing): try again shortly.
    #[error("the server is busy; try again in {retry_after_secs}s")]
    Busy { retry_after_secs: u64 },
    /// Talking to the tenant's upstream MCP server failed.
    #[error(transparent)]
    Upstream(#[from] DiscoveryError),
    /// Anything else: logged with its cause, answered generically.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 with a single problem at `path`.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Validation {
            code: "validation_failed",
            details: json!([{ "path": path, "message": message }]),
            message: format!("{path}: {message}"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound("resource"),
            StoreError::Conflict { constraint } => conflict(&constraint),
            other => ApiError::Internal(other.into()),
        }
    }
}

/// Named database constraints become client errors a person can act on.
fn conflict(constraint: &str) -> ApiError {
    let (code, message) = match constraint {
        "users_email_key" => ("email_taken", "an account with this email already exists"),
        "servers_tenant_name_key" => (
            "server_name_taken",
            "you already have a server with this name",
        ),
        "grant_revoked" => (
            "grant_revoked",
            "the grant is revoked and can no longer change",
        ),
        "approval_not_pending" => (
            "approval_not_pending",
            "the call was already decided or has expired",
        ),
        mcpgate_store::members::LAST_ADMIN => (
            "last_admin",
            "a tenant keeps at least one admin: make someone else admin first",
        ),
        mcpgate_store::members::INVITATION_USED => (
            "invitation_used",
            "this invitation was already used or revoked",
        ),
        mcpgate_store::members::INVITATION_OTHER_EMAIL => (
            "invitation_other_email",
            "this invitation is for another email address",
        ),
        mcpgate_store::password_resets::RESET_USED => (
            "password_reset_used",
            "this reset link was already used, or a newer one was made",
        ),
        _ => ("conflict", "the request conflicts with existing data"),
    };
    ApiError::Conflict {
        code,
        message: message.into(),
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Validation {
                code: "invalid_body",
                message: rejection.body_text(),
                details: Value::Null,
            },
            _ => ApiError::BadRequest(rejection.body_text()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            _ => ApiError::BadRequest(rejection.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        // An id that is not a UUID names nothing: to the caller it is not found.
        match rejection {
            PathRejection::FailedToDeserializePathParams(_) => ApiError::NotFound("resource"),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, details) = match &self {
            ApiError::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                message.clone(),
                None,
            ),
            ApiError::Unauthorized(why) => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                format!("authentication required: {why}"),
                None,
            ),
            ApiError::Forbidden(why) => {
                (StatusCode::FORBIDDEN, "forbidden", (*why).to_owned(), None)
            }
            ApiError::Denied { role, permission } => (
                StatusCode::FORBIDDEN,
                "role_forbidden",
                self.to_string(),
                Some(json!({ "role": role, "permission": permission })),
            ),
            ApiError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
                None,
            ),
            ApiError::Conflict { code, message } => {
                (StatusCode::CONFLICT, *code, message.clone(), None)
            }
            ApiError::Validation {
                code,
                message,
                details,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                *code,
                message.clone(),
                (!details.is_null()).then(|| details.clone()),
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                self.to_string(),
                None,
            ),
            ApiError::TooManyRequests { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests; retry after {retry_after_secs}s"),
                Some(json!({ "retry_after": retry_after_secs })),
            ),
            ApiError::Busy { retry_after_secs } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                self.to_string(),
                Some(json!({ "retry_after": retry_after_secs })),
            ),
            ApiError::Upstream(error) => upstream_answer(error),
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "something went wrong on our side; it has been logged".to_owned(),
                    None,
                )
            }
        };
        let mut body = json!({ "error": { "code": code, "message": message } });
        if let Some(details) = details {
            body["error"]["details"] = details;
        }
        let mut response = (status, Json(body)).into_response();
        match &self {
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"mcpgate\""),
                );
            }
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::Busy { retry_after_secs } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// How a failed discovery is told to the user: their upstream's fault is a 4xx
/// they can fix (or a 502/504 when it is down), never our 500.
fn upstream_answer(error: &DiscoveryError) -> (StatusCode, &'static str, String, Option<Value>) {
    let (status, code) = match error {
        DiscoveryError::Refused {
            reason: BlockReason::OwnAddress,
            ..
        } => (StatusCode::UNPROCESSABLE_ENTITY, "upstream_is_mcpgate"),
        DiscoveryError::Refused { .. } | DiscoveryError::InvalidUrl { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "upstream_address_refused")
        }
        DiscoveryError::Unreachable { .. } => (StatusCode::BAD_GATEWAY, "upstream_unreachable"),
        DiscoveryError::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "upstream_timeout"),
        DiscoveryError::NotMcp { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "upstream_not_mcp"),
        DiscoveryError::Unauthorized { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "upstream_unauthorized")
        }
        DiscoveryError::UnsupportedVersion { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "upstream_version_unsupported",
        ),
        DiscoveryError::Protocol { .. } => (StatusCode::BAD_GATEWAY, "upstream_protocol_error"),
    };
    let details = match error {
        DiscoveryError::UnsupportedVersion { supported, .. } => {
            Some(json!({ "supported": supported }))
        }
        _ => None,
    };
    (status, code, error.to_string(), details)
}
