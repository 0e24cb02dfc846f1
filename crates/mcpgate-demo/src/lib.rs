//! A small, real MCP server for tests, benchmarks and `mcpgate demo`.
//!
//! Serves a tool [`Catalog`] over Streamable HTTP (`/mcp`) and the legacy HTTP+SSE
//! transport (`/sse` + `/message`). `/mcp` is dual-era, chosen per request by its
//! `MCP-Protocol-Version` header (as [`Era::of`] reads it): the handshake era (sessions)
//! and the stateless 2026-07-28 era (`server/discover`, `_meta` envelopes, multi
//! round-trip requests, tasks, `subscriptions/listen`). It answers `tools/call` deterministically with
//! `"<tool> ok: <arguments as compact JSON>"`. Failures and latency can be injected
//! through [`DemoSettings`], and every request is recorded so tests can check what
//! reached the upstream.
//!
//! Built on axum rather than an MCP SDK: tests need byte-level control over SSE
//! framing, sessions and failures.

mod catalog;
mod dispatch;
mod era;
mod legacy;
mod modern;
mod record;
mod server;
mod streamable;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use catalog::{Catalog, CatalogError};
pub use era::MODERN_VERSIONS;
pub use mcpgate_mcp::{Era, HANDSHAKE_VERSIONS};
pub use record::RecordedRequest;

/// `cacheScope` of cacheable modern results (SPEC server/utilities/caching.mdx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CacheScope {
    /// No user-specific data: any cache may serve it to anyone.
    #[default]
    Public,
    /// Reuse only within the same authorization context.
    Private,
}

impl CacheScope {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheScope::Public => "public",
            CacheScope::Private => "private",
        }
    }
}

/// A list whose change `subscriptions/listen` streams announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListChanged {
    /// `notifications/tools/list_changed` (opt-in `toolsListChanged`).
    Tools,
    /// `notifications/prompts/list_changed` (opt-in `promptsListChanged`).
    Prompts,
    /// `notifications/resources/list_changed` (opt-in `resourcesListChanged`).
    Resources,
}

impl ListChanged {
    pub(crate) const ALL: [ListChanged; 3] = [
        ListChanged::Tools,
        ListChanged::Prompts,
        ListChanged::Resources,
    ];

    /// The notification's method.
    pub fn method(self) -> &'static str {
        match self {
            ListChanged::Tools => "notifications/tools/list_changed",
            ListChanged::Prompts => "notifications/prompts/list_changed",
            ListChanged::Resources => "notifications/resources/list_changed",
        }
    }

    /// The key under `params.notifications` of `subscriptions/listen` that opts in.
    pub fn opt_in_key(self) -> &'static str {
        match self {
            ListChanged::Tools => "toolsListChanged",
            ListChanged::Prompts => "promptsListChanged",
            ListChanged::Resources => "resourcesListChanged",
        }
    }
}

/// How `/mcp` answers a request POST.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseMode {
    /// `application/json`, one response per body.
    #[default]
    Json,
    /// `text/event-stream` with one `event: message` (with an `id:`) per response, as
    /// `@modelcontextprotocol/server-everything` does.
    Sse,
}

/// How the demo server behaves. Plain data: build with `..Default::default()`.
#[derive(Debug, Clone)]
pub struct DemoSettings {
    /// The tools served.
    pub catalog: Catalog,
    /// `serverInfo.name`.
    pub server_name: String,
    /// `serverInfo.version`.
    pub server_version: String,
    /// `instructions` in the `initialize` result.
    pub instructions: Option<String>,
    /// JSON or SSE answers on `/mcp`.
    pub response_mode: ResponseMode,
    /// Tools per `tools/list` page; `None` returns all in one page.
    pub page_size: Option<usize>,
    /// Waited before answering each `tools/call`.
    pub latency: Duration,
    /// A `tools/call` that carries `params._meta.progressToken` gets this many
    /// `notifications/progress` before its result (then always as SSE). 0: none.
    pub progress_steps: u32,
    /// Time between progress notifications.
    pub progress_interval: Duration,
    /// Calls to these tools get HTTP 500 with a plain-text body.
    pub fail_tools: Vec<String>,
    /// Calls to these tools are never answered (until the server shuts down).
    pub hang_tools: Vec<String>,
    /// `(name, value)`: requests without this header get 401.
    pub require_header: Option<(String, String)>,
    /// Interval of `: keep-alive` comments on long-lived SSE streams (the legacy GET
    /// and HTTP+SSE streams, and modern `subscriptions/listen`).
    pub keep_alive_interval: Duration,
    /// `cacheScope` on modern `server/discover`, `tools/list` and `resources/read`.
    pub cache_scope: CacheScope,
    /// `ttlMs` on the same results.
    pub cache_ttl: Duration,
    /// Adds `demo_confirm` (a multi round-trip elicitation) and `demo_long_job` (a
    /// task when the client declares the tasks extension) to the catalogue, and
    /// advertises the tasks extension in `server/discover`. Off by default, so the
    /// built-in catalogue stays at its 57 tools.
    pub interactive_tools: bool,
    /// How long `demo_long_job` runs.
    pub task_duration: Duration,
}

impl Default for DemoSettings {
    fn default() -> Self {
        Self {
            catalog: Catalog::builtin(),
            server_name: "mcpgate-demo".to_owned(),
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            instructions: None,
            response_mode: ResponseMode::Json,
            page_size: None,
            latency: Duration::ZERO,
            progress_steps: 0,
            progress_interval: Duration::from_millis(20),
            fail_tools: Vec::new(),
            hang_tools: Vec::new(),
            require_header: None,
            keep_alive_interval: Duration::from_secs(15),
            cache_scope: CacheScope::Public,
            cache_ttl: Duration::from_secs(60),
            interactive_tools: false,
            task_duration: Duration::from_millis(200),
        }
    }
}

/// Serves until `shutdown` completes; open SSE streams and hanging calls then end.
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: DemoSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, settings, server::Hooks::default(), shutdown).await
}

/// A demo server on `127.0.0.1:<free port>`, stopped when dropped.
#[derive(Debug)]
pub struct DemoHandle {
    address: SocketAddr,
    recorded: Arc<Mutex<Vec<RecordedRequest>>>,
    changes: tokio::sync::broadcast::Sender<ListChanged>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl DemoHandle {
    /// The Streamable HTTP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }

    /// The legacy HTTP+SSE endpoint, `http://127.0.0.1:PORT/sse`.
    pub fn sse_url(&self) -> String {
        format!("http://{}/sse", self.address)
    }

    /// The address listened on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The requests received so far (shared: it keeps filling).
    pub fn recorded(&self) -> Arc<Mutex<Vec<RecordedRequest>>> {
        Arc::clone(&self.recorded)
    }

    /// Announces a list change to every open `subscriptions/listen` stream that opted
    /// into it; returns how many streams are open (opted in or not).
    pub fn notify_list_changed(&self, list: ListChanged) -> usize {
        self.changes.send(list).unwrap_or(0)
    }

    /// How many `subscriptions/listen` streams are open now.
    pub fn listeners(&self) -> usize {
        self.changes.receiver_count()
    }
}

impl Drop for DemoHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a demo server on `127.0.0.1:0` in the current tokio runtime.
pub async fn spawn(settings: DemoSettings) -> DemoHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let address = listener.local_addr().expect("local address");
    let hooks = server::Hooks::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    let (recorded, changes) = (Arc::clone(&hooks.recorded), hooks.changes.clone());
    let server = server::serve(listener, settings, hooks, shutdown);
    tokio::spawn(async move {
        if let Err(error) = server.await {
            tracing::warn!(%error, "demo MCP server stopped with an error");
        }
    });
    DemoHandle {
        address,
        recorded,
        changes,
        stop: Some(stop),
    }
}
