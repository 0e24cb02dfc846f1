//! Modern-era errors: the JSON-RPC error and the HTTP status it travels with.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use mcpgate_mcp::{INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR};
use serde_json::value::RawValue;
use serde_json::Value;

/// A mirrored header is missing, duplicated, malformed or disagrees with the body.
pub(crate) const HEADER_MISMATCH: i64 = -32020;
/// The request lacks a client capability the answer needs.
pub(crate) const MISSING_CLIENT_CAPABILITY: i64 = -32021;
/// The request's protocol version is not served here.
pub(crate) const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

#[derive(Debug, Clone)]
pub(crate) struct ModernError {
    code: i64,
    message: String,
    data: Option<Value>,
}

impl ModernError {
    pub(crate) fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    pub(crate) fn header_mismatch(message: impl Into<String>) -> Self {
        Self::new(HEADER_MISMATCH, message)
    }

    pub(crate) fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }

    pub(crate) fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// SPEC basic/index.mdx: protocol-level errors are 400, an unknown method 404
    /// (transports MUST); anything else rides a 200 like a result.
    fn status(&self) -> StatusCode {
        match self.code {
            PARSE_ERROR
            | INVALID_REQUEST
            | INVALID_PARAMS
            | HEADER_MISMATCH
            | MISSING_CLIENT_CAPABILITY
            | UNSUPPORTED_PROTOCOL_VERSION => StatusCode::BAD_REQUEST,
            METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
            _ => StatusCode::OK,
        }
    }

    pub(crate) fn response(&self, id: Option<&RawValue>) -> Response {
        let body = mcpgate_mcp::error_response(id, self.code, &self.message, self.data.as_ref());
        (
            self.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}
