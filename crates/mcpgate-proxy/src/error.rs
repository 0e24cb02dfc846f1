//! Transport-level failures and their one mapping to HTTP.
//!
//! Policy answers are not errors: they go out as HTTP 200 for the request id (see
//! [`crate::refusal`]). Everything here is about the HTTP exchange itself: credentials,
//! scope, size, syntax, sessions, and the upstream not answering a message without an id.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use mcpgate_auth::TokenError;
use mcpgate_mcp::{error_response, ParseError, INTERNAL_ERROR, INVALID_REQUEST};

use crate::refusal::UPSTREAM_UNAVAILABLE;

/// Why the proxy refused or failed an HTTP request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProxyError {
    #[error("a grant token is required: send `Authorization: Bearer <token>`")]
    MissingToken,
    #[error("{0}")]
    InvalidToken(TokenError),
    /// The token verified but its grant says no (revoked, expired, rotated, unknown).
    #[error("{0}")]
    GrantRefused(&'static str),
    /// An OAuth access token issued for another proxy URL (RFC 8707 audience).
    #[error("this access token was issued for another server")]
    WrongAudience,
    #[error("this grant does not cover server {0}")]
    OutOfScope(String),
    #[error("requests from origin {0:?} are not accepted")]
    ForeignOrigin(String),
    #[error("server not found")]
    ServerNotFound,
    #[error("session not found")]
    SessionNotFound,
    #[error("the request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("the request body did not arrive within {0:?}")]
    BodyTimeout(std::time::Duration),
    /// Each message of a batch is decided and audited: a huge batch would flood both.
    #[error("a batch of {messages} messages is over the limit of {max}; send fewer at a time")]
    BatchTooLarge { messages: usize, max: usize },
    #[error("{0}")]
    Parse(ParseError),
    #[error("batches that contain tools/list (or a tools/call without a name) are not supported; send them one per request")]
    BatchNotSupported,
    /// A `tools/call` (or another decided method) without an id would be a notification:
    /// it could run unchecked.
    #[error("tools/call and every method the policy decides must be a request with an id")]
    CallWithoutId,
    #[error("this grant already keeps {0} streams open; close one before opening another")]
    TooManyStreams(usize),
    #[error("{0}")]
    UpstreamUnavailable(String),
    /// Postgres could not be read while loading a server or grant for the first time.
    #[error("the proxy cannot load its configuration right now")]
    StoreUnavailable(#[source] mcpgate_store::StoreError),
    #[error("this server speaks the legacy HTTP+SSE transport: connect to /mcp/{{server}}/sse")]
    LegacyTransport,
    #[error("this server speaks Streamable HTTP: connect to /mcp/{{server}}/")]
    NotLegacy,
}

impl ProxyError {
    fn status(&self) -> StatusCode {
        match self {
            ProxyError::MissingToken
            | ProxyError::InvalidToken(_)
            | ProxyError::GrantRefused(_)
            | ProxyError::WrongAudience => StatusCode::UNAUTHORIZED,
            ProxyError::OutOfScope(_) | ProxyError::ForeignOrigin(_) => StatusCode::FORBIDDEN,
            ProxyError::ServerNotFound | ProxyError::SessionNotFound => StatusCode::NOT_FOUND,
            ProxyError::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ProxyError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ProxyError::Parse(_)
            | ProxyError::BatchTooLarge { .. }
            | ProxyError::BatchNotSupported
            | ProxyError::CallWithoutId
            | ProxyError::LegacyTransport
            | ProxyError::NotLegacy => StatusCode::BAD_REQUEST,
            ProxyError::TooManyStreams(_) => StatusCode::TOO_MANY_REQUESTS,
            ProxyError::UpstreamUnavailable(_) => StatusCode::BAD_GATEWAY,
            ProxyError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> i64 {
        match self {
            ProxyError::Parse(error) => error.code(),
            ProxyError::UpstreamUnavailable(_) => UPSTREAM_UNAVAILABLE,
            ProxyError::StoreUnavailable(_) => INTERNAL_ERROR,
            ProxyError::MissingToken
            | ProxyError::InvalidToken(_)
            | ProxyError::GrantRefused(_)
            | ProxyError::WrongAudience
            | ProxyError::OutOfScope(_)
            | ProxyError::ForeignOrigin(_)
            | ProxyError::ServerNotFound
            | ProxyError::SessionNotFound
            | ProxyError::BodyTooLarge(_)
            | ProxyError::BodyTimeout(_)
            | ProxyError::BatchTooLarge { .. }
            | ProxyError::BatchNotSupported
            | ProxyError::CallWithoutId
            | ProxyError::TooManyStreams(_)
            | ProxyError::LegacyTransport
            | ProxyError::NotLegacy => INVALID_REQUEST,
        }
    }
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ProxyError::StoreUnavailable(source) => {
                tracing::error!(error = %source, "loading configuration from Postgres failed");
            }
            _ => tracing::debug!(%status, error = %self, "request refused"),
        }
        let message = self.to_string();
        let body = error_response(None, self.code(), &message, None);
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3. The messages hold no `"` or `\`; strip them anyway.
            let description = message.replace(['"', '\\'], "'");
            let value =
                format!(r#"Bearer error="invalid_token", error_description="{description}""#);
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
