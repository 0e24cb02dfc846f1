//! Shared state, sessions, the router and the checks every endpoint makes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::modern::ModernState;
use crate::record::RecordedRequest;
use crate::{legacy, streamable, DemoSettings, ListChanged};

pub(crate) type SharedState = Arc<AppState>;

#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) settings: DemoSettings,
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    pub(crate) recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    pub(crate) modern: ModernState,
    /// Cancelled at shutdown: ends SSE streams and hanging calls.
    pub(crate) shutdown: CancellationToken,
    next_event_id: AtomicU64,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Cancelled by DELETE (or when a legacy stream closes).
    pub(crate) ended: CancellationToken,
    /// Legacy transport: where responses go (the GET stream).
    pub(crate) stream: Option<mpsc::UnboundedSender<Bytes>>,
}

impl AppState {
    pub(crate) fn new_session(
        &self,
        stream: Option<mpsc::UnboundedSender<Bytes>>,
    ) -> (String, Session) {
        let id = uuid::Uuid::new_v4().to_string();
        let session = Session {
            ended: self.shutdown.child_token(),
            stream,
        };
        self.sessions().insert(id.clone(), session.clone());
        (id, session)
    }

    pub(crate) fn session(&self, id: &str) -> Option<Session> {
        self.sessions().get(id).cloned()
    }

    pub(crate) fn end_session(&self, id: &str) -> bool {
        match self.sessions().remove(id) {
            Some(session) => {
                session.ended.cancel();
                true
            }
            None => false,
        }
    }

    pub(crate) fn next_event_id(&self) -> String {
        self.next_event_id
            .fetch_add(1, Ordering::Relaxed)
            .to_string()
    }

    /// Refuses a request without the configured header.
    pub(crate) fn check_auth(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let Some((name, value)) = &self.settings.require_header else {
            return Ok(());
        };
        if headers.get(name.as_str()).and_then(|v| v.to_str().ok()) == Some(value.as_str()) {
            return Ok(());
        }
        Err(Refusal::Unauthorized)
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().expect("session table poisoned")
    }
}

/// What a [`crate::DemoHandle`] shares with the running server.
#[derive(Debug, Clone)]
pub(crate) struct Hooks {
    pub(crate) recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    pub(crate) changes: tokio::sync::broadcast::Sender<ListChanged>,
}

impl Default for Hooks {
    fn default() -> Self {
        Self {
            recorded: Arc::default(),
            changes: tokio::sync::broadcast::channel(16).0,
        }
    }
}

pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    mut settings: DemoSettings,
    hooks: Hooks,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if settings.interactive_tools {
        settings.catalog = settings.catalog.with_interactive_tools();
    }
    let state = Arc::new(AppState {
        settings,
        sessions: Mutex::default(),
        recorded: hooks.recorded,
        modern: ModernState::new(hooks.changes),
        shutdown: CancellationToken::new(),
        next_event_id: AtomicU64::new(1),
    });
    let token = state.shutdown.clone();
    tokio::spawn({
        let token = token.clone();
        async move {
            shutdown.await;
            token.cancel();
        }
    });
    let router = Router::new()
        .route(
            "/mcp",
            post(streamable::post)
                .get(streamable::get)
                .delete(streamable::delete),
        )
        .route("/sse", get(legacy::open_stream))
        .route("/message", post(legacy::post))
        .with_state(state);
    axum::serve(listener, router)
        .with_graceful_shutdown(token.cancelled_owned())
        .await
}

/// Transport-level refusals, mapped to HTTP in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The required header is missing or wrong.
    Unauthorized,
    /// No `Mcp-Session-Id` on a request that needs one.
    MissingSession,
    /// An unknown or ended session (the specification says 404; clients re-initialize).
    UnknownSession,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Unauthorized => {
                let mut response = json_rpc_error(StatusCode::UNAUTHORIZED, -32001, "unauthorized");
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
                response
            }
            Refusal::MissingSession => json_rpc_error(
                StatusCode::BAD_REQUEST,
                mcpgate_mcp::INVALID_REQUEST,
                "missing Mcp-Session-Id",
            ),
            Refusal::UnknownSession => {
                json_rpc_error(StatusCode::NOT_FOUND, -32001, "session not found")
            }
        }
    }
}

/// A JSON-RPC error with `id: null`, for transport-level refusals.
pub(crate) fn json_rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = mcpgate_mcp::error_response(None, code, message, None);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

pub(crate) fn sse_response(body: Body) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
