//! How a modern answer reaches the client: JSON, or an SSE stream scoped to the
//! request (no event ids: the 2026-07-28 era has no resumability).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use mcpgate_mcp::sse::message_event;

use crate::dispatch::Reply;
use crate::server::{sse_response, SharedState};
use crate::streamable::progress_stream;
use crate::ResponseMode;

pub(crate) async fn reply(state: &SharedState, reply: Reply) -> Response {
    match reply {
        Reply::Accepted => StatusCode::ACCEPTED.into_response(),
        Reply::Message(json) => match state.settings.response_mode {
            ResponseMode::Json => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                json,
            )
                .into_response(),
            ResponseMode::Sse => sse_response(message_event(&json, None).into()),
        },
        Reply::Progress {
            notifications,
            interval,
            response,
        } => progress_stream(state, notifications, interval, response, false),
        Reply::Fail(text) => (StatusCode::INTERNAL_SERVER_ERROR, text).into_response(),
        Reply::Hang => {
            state.shutdown.cancelled().await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
