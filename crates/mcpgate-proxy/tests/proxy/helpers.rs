//! A proxy of its own for each test: fresh database and Redis, a demo upstream serving
//! the k8s catalogue, a tenant, a server (with sealed upstream headers), a policy, a
//! grant and its token.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mcpgate_auth::{GrantClaims, GrantSigningKey, SecretKey, ServerScope};
use mcpgate_catalog::{classify, fingerprint, ToolDefinition};
use mcpgate_demo::{DemoHandle, DemoSettings};
use mcpgate_proxy::{Application, ProxyDeps, ProxySettings};
use mcpgate_store::accounts::{self, NewApiKey, NewSignup};
use mcpgate_store::grants::{self, NewGrant};
use mcpgate_store::servers::{self, DiscoveredServer, DiscoveredTool, NewServer};
use mcpgate_store::{policies, GrantId, Redis, ServerId, TenantId};
use mcpgate_testkit::{fresh_database, fresh_redis, TestDb, TestRedis};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// The seed policy of the issue: default deny, k8s_run_pod at 10 a minute per grant.
pub const SEED_POLICY: &str = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"k8s_run_pod_rate","window":"minute","max":10,"scope":"grant"}]}}}"#;

/// The header the demo upstream requires: the server's own credential.
pub const UPSTREAM_HEADER: (&str, &str) = ("x-upstream-key", "upstream-secret");

pub struct Options {
    pub demo: DemoSettings,
    /// `None`: no policy at all.
    pub policy: Option<String>,
    pub grant_policy: Option<String>,
    pub settings: fn(&mut ProxySettings),
    /// `None`: a Redis of the test's own; else this URL (a cluster or Sentinel set).
    pub redis_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            demo: DemoSettings::default(),
            policy: Some(SEED_POLICY.to_owned()),
            grant_policy: None,
            settings: |_| {},
            redis_url: None,
        }
    }
}

pub struct TestProxy {
    pub addr: SocketAddr,
    pub db: TestDb,
    pub redis: TestRedis,
    pub redis_conn: Redis,
    pub demo: DemoHandle,
    pub signing_key: GrantSigningKey,
    pub tenant: TenantId,
    pub server: ServerId,
    pub grant: GrantId,
    pub token: String,
    pub client: reqwest::Client,
    pub secret_key: Arc<SecretKey>,
    settings: fn(&mut ProxySettings),
    stop: CancellationToken,
    run: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Another proxy process's worth: its own `Application` on the same Postgres and Redis.
pub struct Replica {
    pub addr: SocketAddr,
    stop: CancellationToken,
    run: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Builds and runs a proxy on port 0.
async fn start(
    db: &mcpgate_store::PgPool,
    redis: &Redis,
    verify_key: mcpgate_auth::GrantVerifyKey,
    secret_key: &Arc<SecretKey>,
    adjust: fn(&mut ProxySettings),
) -> Replica {
    let mut settings = ProxySettings::new(
        "127.0.0.1:0".parse().unwrap(),
        "http://127.0.0.1",
        verify_key,
        Arc::clone(secret_key),
    );
    settings.allow_private_upstreams = true;
    settings.upstream_connect_timeout = Duration::from_secs(2);
    settings.upstream_response_timeout = Duration::from_secs(5);
    settings.audit_flush_interval = Duration::from_millis(50);
    settings.drain_timeout = Duration::from_secs(5);
    adjust(&mut settings);
    let app = Application::build(
        settings,
        ProxyDeps {
            db: db.clone(),
            redis: redis.clone(),
        },
    )
    .await
    .expect("building the proxy");
    let addr = app.local_addr().unwrap();
    let stop = CancellationToken::new();
    let run = tokio::spawn(app.run(stop.clone().cancelled_owned()));
    Replica {
        addr,
        stop,
        run: Some(run),
    }
}

pub async fn spawn(options: Options) -> TestProxy {
    crate::telemetry::init();
    let db = fresh_database().await;
    let redis = match &options.redis_url {
        Some(url) => TestRedis::external(url.clone()),
        None => fresh_redis().await,
    };
    let redis_conn = mcpgate_store::connect_redis(redis.url(), Duration::from_secs(5))
        .await
        .expect("connecting to the test Redis");
    let mut demo_settings = options.demo;
    demo_settings.require_header = Some((UPSTREAM_HEADER.0.into(), UPSTREAM_HEADER.1.into()));
    let demo = mcpgate_demo::spawn(demo_settings).await;
    let signing_key = GrantSigningKey::generate();
    let secret_key = Arc::new(SecretKey::generate());

    let tenant = sign_up_tenant(&db.pool, "Acme", "abcdefgh").await;
    let server = ServerId::new();
    let sealed = seal_upstream_header(&secret_key, tenant, server);
    let tools = discover(&demo).await;
    servers::create_server(
        &db.pool,
        tenant,
        &NewServer {
            id: server,
            name: "k8s".into(),
            url: demo.url(),
            headers_sealed: Some(sealed),
            header_names: vec!["X-Upstream-Key".into()],
            discovered: DiscoveredServer {
                transport: "streamable_http".into(),
                server_info: None,
                protocol_version: None,
                instructions: None,
            },
        },
        &tools,
    )
    .await
    .expect("creating the server");
    if let Some(policy) = &options.policy {
        policies::add_policy_version(&db.pool, tenant, server, policy, "test", None)
            .await
            .expect("adding the policy");
    }
    let grant = GrantId::new();
    grants::create_grant(
        &db.pool,
        tenant,
        &NewGrant {
            id: grant,
            name: "agent".into(),
            server_ids: Some(vec![server.as_uuid()]),
            policy: options.grant_policy.clone(),
            expires_at: None,
        },
    )
    .await
    .expect("creating the grant");
    let token = mint(&signing_key, tenant, grant, server);

    let mut replica = start(
        &db.pool,
        &redis_conn,
        signing_key.verify_key(),
        &secret_key,
        options.settings,
    )
    .await;
    let addr = replica.addr;
    // The replica's Drop would stop it: the TestProxy owns its token from here on.
    let stop = std::mem::take(&mut replica.stop);
    let run = replica.run.take();
    TestProxy {
        addr,
        db,
        redis,
        redis_conn,
        demo,
        signing_key,
        secret_key,
        settings: options.settings,
        tenant,
        server,
        grant,
        token,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        stop,
        run,
    }
}

/// A tenant named `name`, signed up through the store (the API key is a placeholder
/// with the 8-character `prefix`).
pub async fn sign_up_tenant(pool: &mcpgate_store::PgPool, name: &str, prefix: &str) -> TenantId {
    let (tenant, _, _) = accounts::sign_up(
        pool,
        &NewSignup {
            tenant_name: name.into(),
            email: format!("owner@{}.test", name.to_lowercase()),
            password_hash: "not-a-real-hash".into(),
            first_key: NewApiKey {
                name: "first".into(),
                prefix: prefix.into(),
                hash: prefix.bytes().cycle().take(32).collect(),
            },
        },
    )
    .await
    .expect("signing up");
    tenant.id
}

/// The demo upstream's required header, sealed for `server` as servers' headers are
/// stored (with the configured key itself: opening also accepts it, the legacy form).
pub fn seal_upstream_header(secret_key: &SecretKey, tenant: TenantId, server: ServerId) -> Vec<u8> {
    let headers = json!({"X-Upstream-Key": UPSTREAM_HEADER.1}).to_string();
    let associated = format!("server-headers:{tenant}:{server}");
    secret_key.seal(headers.as_bytes(), associated.as_bytes())
}

pub fn mint(key: &GrantSigningKey, tenant: TenantId, grant: GrantId, server: ServerId) -> String {
    let claims = GrantClaims::new(
        grant.as_uuid(),
        tenant.as_uuid(),
        ServerScope::Only(vec![server.as_uuid()]),
        1,
        Utc::now(),
        None,
    );
    key.issue(&claims)
}

/// Registers `demo` as another server of the proxy's tenant, with `policy`, and a grant
/// (and its token) covering every server of the tenant.
pub async fn add_server(proxy: &TestProxy, demo: &DemoHandle, policy: &str) -> (ServerId, String) {
    register(proxy, demo, demo.url(), "streamable_http", policy).await
}

/// [`add_server`] for the demo's legacy HTTP+SSE endpoint.
pub async fn add_legacy_server(
    proxy: &TestProxy,
    demo: &DemoHandle,
    policy: &str,
) -> (ServerId, String) {
    register(proxy, demo, demo.sse_url(), "sse", policy).await
}

async fn register(
    proxy: &TestProxy,
    demo: &DemoHandle,
    url: String,
    transport: &str,
    policy: &str,
) -> (ServerId, String) {
    let server = ServerId::new();
    let sealed = seal_upstream_header(&proxy.secret_key, proxy.tenant, server);
    let tools = discover(demo).await;
    servers::create_server(
        &proxy.db.pool,
        proxy.tenant,
        &NewServer {
            id: server,
            name: format!("other-{server}"),
            url,
            headers_sealed: Some(sealed),
            header_names: vec!["X-Upstream-Key".into()],
            discovered: DiscoveredServer {
                transport: transport.into(),
                server_info: None,
                protocol_version: None,
                instructions: None,
            },
        },
        &tools,
    )
    .await
    .expect("creating the server");
    policies::add_policy_version(&proxy.db.pool, proxy.tenant, server, policy, "test", None)
        .await
        .expect("adding the policy");
    let grant = GrantId::new();
    grants::create_grant(
        &proxy.db.pool,
        proxy.tenant,
        &NewGrant {
            id: grant,
            name: format!("everything-{grant}"),
            server_ids: None,
            policy: None,
            expires_at: None,
        },
    )
    .await
    .expect("creating the grant");
    let claims = GrantClaims::new(
        grant.as_uuid(),
        proxy.tenant.as_uuid(),
        ServerScope::All,
        1,
        Utc::now(),
        None,
    );
    (server, proxy.signing_key.issue(&claims))
}

/// Seconds and microseconds on Redis's clock, which the limiter's windows follow.
pub async fn redis_time(redis: &Redis) -> (u64, u64) {
    let mut connection = redis.connection();
    let (seconds, micros): (String, String) = redis::cmd("TIME")
        .query_async(&mut connection)
        .await
        .unwrap();
    (seconds.parse().unwrap(), micros.parse().unwrap())
}

/// Sleeps until a `window`-second fixed window has just begun on Redis's clock.
pub async fn wait_for_window_start(redis: &Redis, window: u64) {
    let (seconds, micros) = redis_time(redis).await;
    let into = (seconds % window) * 1_000_000 + micros;
    let left = window * 1_000_000 - into;
    tokio::time::sleep(Duration::from_micros(left + 20_000)).await;
}

/// The demo's tool definitions, as its `tools/list` answers them.
pub async fn stored_tools_of(demo: &DemoHandle, client: &reqwest::Client) -> Vec<Value> {
    list_tools(demo, client).await
}

/// The demo's tools, classified and fingerprinted as discovery would store them.
async fn discover(demo: &DemoHandle) -> Vec<DiscoveredTool> {
    let client = reqwest::Client::new();
    list_tools(demo, &client)
        .await
        .iter()
        .map(|definition| {
            let tool: ToolDefinition = serde_json::from_value(definition.clone()).unwrap();
            let assessment = classify(&tool);
            DiscoveredTool {
                name: tool.name().to_owned(),
                definition: definition.clone(),
                category: assessment.classification.category.as_str().into(),
                risk: assessment.classification.risk.as_str().into(),
                evidence: json!([]),
                fingerprint: fingerprint(&tool).as_str().to_owned(),
                confidence: None,
            }
        })
        .collect()
}

async fn list_tools(demo: &DemoHandle, client: &reqwest::Client) -> Vec<Value> {
    let initialize = client
        .post(demo.url())
        .header(UPSTREAM_HEADER.0, UPSTREAM_HEADER.1)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}))
        .send()
        .await
        .unwrap();
    let session = initialize.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let list = client
        .post(demo.url())
        .header(UPSTREAM_HEADER.0, UPSTREAM_HEADER.1)
        .header("mcp-session-id", session)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/list"}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let list = last_message(&list);
    list["result"]["tools"].as_array().unwrap().clone()
}

impl TestProxy {
    pub fn url(&self) -> String {
        self.url_at(self.addr)
    }

    pub fn url_at(&self, addr: SocketAddr) -> String {
        format!("http://{}/mcp/{}/", addr, self.server)
    }

    /// A second proxy on the same Postgres and Redis, with the same keys and settings.
    pub async fn replica(&self) -> Replica {
        start(
            &self.db.pool,
            &self.redis_conn,
            self.signing_key.verify_key(),
            &self.secret_key,
            self.settings,
        )
        .await
    }

    /// [`TestProxy::replica`] with a Redis connection of its own, as another process has
    /// (its own cluster slot map, its own Sentinel watcher, its own change stream).
    pub async fn replica_on_own_connection(&self) -> Replica {
        let redis = mcpgate_store::connect_redis(self.redis.url(), Duration::from_secs(5))
            .await
            .expect("connecting the replica to Redis");
        start(
            &self.db.pool,
            &redis,
            self.signing_key.verify_key(),
            &self.secret_key,
            self.settings,
        )
        .await
    }

    /// A POST to the proxy at `addr`.
    pub fn request_at(
        &self,
        addr: SocketAddr,
        session: Option<&str>,
        body: impl Into<String>,
    ) -> reqwest::RequestBuilder {
        self.request_on(&self.client, addr, session, body)
    }

    /// [`TestProxy::request_at`] sent by `client` (one with its own connection pool).
    pub fn request_on(
        &self,
        client: &reqwest::Client,
        addr: SocketAddr,
        session: Option<&str>,
        body: impl Into<String>,
    ) -> reqwest::RequestBuilder {
        let mut request = client
            .post(self.url_at(addr))
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.into());
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-06-18");
        }
        request
    }

    /// A `tools/call` through the proxy at `addr`.
    pub async fn call_at(
        &self,
        addr: SocketAddr,
        session: &str,
        id: u64,
        tool: &str,
        arguments: Value,
    ) -> (u16, Value) {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":tool,"arguments":arguments}});
        let response = self
            .request_at(addr, Some(session), body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, last_message(&text))
    }

    /// A POST as an MCP client sends it, with this grant's token.
    pub fn request(
        &self,
        session: Option<&str>,
        body: impl Into<String>,
    ) -> reqwest::RequestBuilder {
        self.request_as(&self.token, session, body)
    }

    /// [`TestProxy::request`], sent; the response.
    pub async fn post(&self, session: Option<&str>, body: impl Into<String>) -> reqwest::Response {
        self.request(session, body)
            .send()
            .await
            .expect("the proxy answers")
    }

    pub fn request_as(
        &self,
        token: &str,
        session: Option<&str>,
        body: impl Into<String>,
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .post(self.url())
            .bearer_auth(token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.into());
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-06-18");
        }
        request
    }

    /// `initialize` + `notifications/initialized`; the proxy's session id.
    pub async fn initialize(&self) -> String {
        self.initialize_as(&self.token).await
    }

    pub async fn initialize_as(&self, token: &str) -> String {
        let response = self
            .request_as(token, None, initialize_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        let session = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let initialized = self
            .request_as(
                token,
                Some(&session),
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(initialized.status(), 202);
        session
    }

    /// A `tools/call`; the HTTP status and the JSON-RPC response (the last SSE message if
    /// the answer is a stream).
    pub async fn call(&self, session: &str, id: u64, tool: &str, arguments: Value) -> (u16, Value) {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":tool,"arguments":arguments}});
        let response = self
            .request(Some(session), body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, last_message(&text))
    }

    /// The rows of the audit log, waiting until there are at least `at_least`.
    pub async fn audit_rows(&self, at_least: usize) -> Vec<mcpgate_store::audit::AuditEvent> {
        for _ in 0..100 {
            let rows = mcpgate_store::audit::query_audit(
                &self.db.pool,
                self.tenant,
                &Default::default(),
                1000,
            )
            .await
            .unwrap();
            if rows.len() >= at_least {
                return rows.into_iter().map(|row| row.event).collect();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {at_least} audit rows after 5 s");
    }

    /// Stops the proxy and waits for it to drain.
    pub async fn shut_down(&mut self) {
        self.stop.cancel();
        if let Some(run) = self.run.take() {
            run.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub fn initialize_body() -> String {
    json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}})
    .to_string()
}

/// A JSON body, or the data of the last `message` event of an SSE body.
pub fn last_message(text: &str) -> Value {
    if let Ok(value) = serde_json::from_str(text) {
        return value;
    }
    let data = text
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .last()
        .unwrap_or_else(|| panic!("no JSON and no SSE message in {text:?}"));
    serde_json::from_str(&data).unwrap()
}

/// The deny text of a refused call.
pub fn denial_text(response: &Value) -> &str {
    assert_eq!(response["result"]["isError"], true, "{response}");
    response["result"]["content"][0]["text"].as_str().unwrap()
}

/// The server's stored tools, as `DiscoveredTool`s to re-sync with.
pub async fn stored_tools(proxy: &TestProxy) -> Vec<DiscoveredTool> {
    servers::list_tools(&proxy.db.pool, proxy.tenant, proxy.server)
        .await
        .unwrap()
        .into_iter()
        .map(|tool| DiscoveredTool {
            name: tool.name,
            definition: tool.definition,
            category: tool.category,
            risk: tool.risk,
            evidence: tool.evidence,
            fingerprint: tool.fingerprint,
            confidence: None,
        })
        .collect()
}
