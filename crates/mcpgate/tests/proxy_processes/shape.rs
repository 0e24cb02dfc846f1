//! `scripts/production-shape.sh` as a test starts it: two API and three proxy
//! processes, a Redis Cluster and nginx in front, on the test's database. The script
//! prints each process's address and pid; dropping [`Shape`] stops it (SIGTERM), and
//! its trap stops everything it started.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// The running shape: the script's `KEY=VALUE` lines.
pub struct Shape {
    child: Child,
    values: HashMap<String, String>,
}

impl Shape {
    /// Runs the script against `database_url`, with `demo_latency` added to every
    /// demo call, and waits until it says it is up.
    pub fn start(database_url: &str, demo_latency: Duration) -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/production-shape.sh"
        );
        let mut child = Command::new("bash")
            .arg(script)
            .env("MCPGATE_BIN", env!("CARGO_BIN_EXE_mcpgate"))
            .env("MCPGATE_DATABASE_URL", database_url)
            .env("DEMO_LATENCY_MS", demo_latency.as_millis().to_string())
            .env("MCPGATE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting scripts/production-shape.sh");
        let stdout = child.stdout.take().expect("the script's stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut shape = Self {
            child,
            values: HashMap::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("scripts/production-shape.sh did not say it was up in time");
            if line.starts_with("production shape is up") {
                break;
            }
            if let Some((key, value)) = line.split_once('=') {
                shape.values.insert(key.to_owned(), value.to_owned());
            }
        }
        shape
    }

    /// One of the script's values (`PROXY_URL`, `API_2`, `PROXY_3_PID`, ...).
    pub fn value(&self, key: &str) -> &str {
        self.values
            .get(key)
            .unwrap_or_else(|| panic!("the script printed no {key}: {:?}", self.values))
    }

    /// `http://<PROXY_i>` for i in 1..=3: each proxy, not through nginx.
    pub fn proxies(&self) -> Vec<String> {
        (1..=3)
            .map(|i| format!("http://{}", self.value(&format!("PROXY_{i}"))))
            .collect()
    }

    /// `http://<API_i>`: one API replica, not through nginx.
    pub fn api(&self, replica: usize) -> String {
        format!("http://{}", self.value(&format!("API_{replica}")))
    }

    /// SIGKILL to proxy `replica` (1..=3), as a crash.
    pub fn kill_proxy(&self, replica: usize) {
        let pid: i32 = self
            .value(&format!("PROXY_{replica}_PID"))
            .parse()
            .expect("a pid");
        kill(Pid::from_raw(pid), Signal::SIGKILL).expect("killing the proxy");
    }
}

impl Drop for Shape {
    fn drop(&mut self) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        let _ = kill(pid, Signal::SIGTERM);
        // The proxies drain for up to 5 s; then the script removes its folder.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

/// A REST call: the status and the JSON body (`Null` when empty).
pub async fn rest(
    client: &reqwest::Client,
    method: Method,
    url: String,
    key: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, &url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status();
    let text = response.text().await.expect("a body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{url}: not JSON ({status}): {text}"))
    };
    (status, body)
}

/// One MCP endpoint (a server's URL on a proxy or on nginx) with a grant's token.
#[derive(Clone)]
pub struct Mcp {
    pub client: reqwest::Client,
    pub token: String,
}

/// A `tools/call` answer: the HTTP status, the replica nginx sent it to (when it went
/// through nginx) and the JSON-RPC message.
pub struct Answer {
    pub status: u16,
    pub upstream: Option<String>,
    pub message: Value,
}

impl Answer {
    /// A tool result that is not an error.
    pub fn ran(&self) -> bool {
        self.status == 200 && self.message["result"]["isError"] == false
    }
}

impl Mcp {
    /// A POST of `body` to `url` as an MCP client sends it, in `session` if given.
    pub fn post(&self, url: &str, session: Option<&str>, body: &Value) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .post(url)
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-06-18");
        }
        request
    }

    /// `initialize` then `notifications/initialized`; the session id.
    pub async fn initialize(&self, url: &str) -> String {
        let body = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
            "protocolVersion":"2025-06-18","capabilities":{},
            "clientInfo":{"name":"production-shape","version":"1"}}});
        let response = self
            .post(url, None, &body)
            .send()
            .await
            .expect("initialize");
        assert_eq!(response.status(), 200, "initialize through {url}");
        let session = response.headers()["mcp-session-id"]
            .to_str()
            .expect("a session id")
            .to_owned();
        let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
        let response = self
            .post(url, Some(&session), &initialized)
            .send()
            .await
            .expect("notifications/initialized");
        assert!(response.status().is_success(), "{}", response.status());
        session
    }

    /// One `tools/call` with `id` as its JSON-RPC and HTTP request id; `Err` when no
    /// answer came (the connection broke).
    pub async fn call(
        &self,
        url: &str,
        session: &str,
        id: &str,
        tool: &str,
    ) -> Result<Answer, reqwest::Error> {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":tool,"arguments":{}}});
        // The audit row's request_id is the HTTP request id: ours, when we send one.
        let response = self
            .post(url, Some(session), &body)
            .header("x-request-id", id)
            .send()
            .await?;
        let status = response.status().as_u16();
        let upstream = response
            .headers()
            .get("x-mcpgate-upstream")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await?;
        Ok(Answer {
            status,
            upstream,
            message: last_message(&text),
        })
    }
}

/// The JSON body, or the last SSE message's data; `Null` for neither (nginx's 502 page).
fn last_message(text: &str) -> Value {
    if let Ok(value) = serde_json::from_str(text) {
        return value;
    }
    text.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .last()
        .and_then(|data| serde_json::from_str(&data).ok())
        .unwrap_or(Value::Null)
}

/// `mcpgate_proxy_requests_total{method="tools/call"}` on the proxy at `base`.
pub async fn tool_calls_seen(client: &reqwest::Client, base: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("the proxy's /metrics")
        .text()
        .await
        .expect("a metrics body");
    text.lines()
        .find_map(|line| line.strip_prefix("mcpgate_proxy_requests_total{method=\"tools/call\"} "))
        .unwrap_or_else(|| panic!("no tools/call counter in {text}"))
        .trim()
        .parse()
        .expect("a count")
}
