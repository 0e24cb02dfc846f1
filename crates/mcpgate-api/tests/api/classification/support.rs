//! What the classification tests need around the app: demo upstreams with a
//! tool the classifier cannot read and with one definition rewritten, an MCP
//! client for the proxy, and a poll.

use std::future::Future;
use std::time::{Duration, Instant};

use mcpgate_demo::{Catalog, DemoHandle, DemoSettings};
use mcpgate_testkit::rest::Tenant;
use mcpgate_testkit::TestApp;
use serde_json::{json, Value};

/// The tool the tests correct: the classifier calls it read/low.
pub const LISTING: &str = "k8s_get_namespaces";
/// A tool with nothing the classifier recognises: low confidence.
pub const OPAQUE: &str = "frobnicate";

fn demo_tools() -> Vec<Value> {
    let catalogue: Value = serde_json::from_str(include_str!(
        "../../../../mcpgate-demo/catalogs/k8s-multicluster-mcp.json"
    ))
    .unwrap();
    let mut tools = catalogue["tools"].as_array().unwrap().clone();
    tools.push(json!({"name": OPAQUE, "inputSchema": {"type": "object"}}));
    tools
}

/// The demo catalogue plus [`OPAQUE`].
pub async fn upstream() -> DemoHandle {
    spawn(demo_tools()).await
}

/// [`upstream`] with [`LISTING`]'s description rewritten: a new fingerprint.
pub async fn rewritten_upstream() -> DemoHandle {
    rewritten_upstream_of(LISTING, "List namespaces, then label each one.").await
}

/// [`upstream`] with one tool's description replaced: a new fingerprint.
pub async fn rewritten_upstream_of(name: &str, description: &str) -> DemoHandle {
    let mut tools = demo_tools();
    let tool = tools
        .iter_mut()
        .find(|tool| tool["name"] == name)
        .expect("the catalogue has the tool");
    tool["description"] = json!(description);
    spawn(tools).await
}

async fn spawn(tools: Vec<Value>) -> DemoHandle {
    mcpgate_demo::spawn(DemoSettings {
        catalog: Catalog::from_tools(&tools).unwrap(),
        ..DemoSettings::default()
    })
    .await
}

/// `/api/v1/servers/{server}/tools/{tool}` and below.
pub fn tool_path(server: &str, tool: &str, rest: &str) -> String {
    format!("/api/v1/servers/{server}/tools/{tool}{rest}")
}

/// A grant for `server`, its token.
pub async fn grant(tenant: &Tenant<'_>, server: &str) -> String {
    let (status, grant) = tenant
        .post(
            "/api/v1/grants",
            json!({"name": "agent", "servers": [server], "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, 201, "{grant}");
    grant["token"].as_str().expect("the token").to_owned()
}

/// An MCP client of the proxy with a session (2025-06-18, the handshake era).
pub struct Agent<'a> {
    app: &'a TestApp,
    url: String,
    token: String,
    session: String,
}

impl<'a> Agent<'a> {
    pub async fn connect(app: &'a TestApp, server: &str, token: String) -> Self {
        let url = app.proxy_url(&format!("/mcp/{server}/"));
        let mut agent = Agent {
            app,
            url,
            token,
            session: String::new(),
        };
        let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}}});
        let response = agent.post(&initialize).await;
        assert_eq!(response.status(), 200);
        agent.session = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(agent.post(&initialized).await.status(), 202);
        agent
    }

    async fn post(&self, body: &Value) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .json(body);
        if !self.session.is_empty() {
            request = request
                .header("mcp-session-id", &self.session)
                .header("mcp-protocol-version", "2025-06-18");
        }
        request.send().await.expect("the proxy answers")
    }

    /// A `tools/call`'s JSON-RPC response (the last SSE message of a stream).
    pub async fn call(&self, tool: &str) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": tool, "arguments": {}}});
        let text = self.post(&body).await.text().await.unwrap();
        let last_data = text
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .next_back()
            .map(str::trim)
            .unwrap_or(&text)
            .to_owned();
        serde_json::from_str(&last_data).unwrap_or_else(|_| panic!("a JSON-RPC answer: {text}"))
    }
}

/// Whether a `tools/call` answer is mcpgate's refusal (else the upstream ran it).
pub fn refused(answer: &Value) -> bool {
    assert!(answer["result"].is_object(), "{answer}");
    answer["result"]["isError"] == true
}

/// Polls `check` until it gives a value, for at most 10 seconds.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
