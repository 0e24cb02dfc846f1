//! The official MCP SDKs, each driven by a small program in `tests/e2e/clients/` that
//! takes steps as JSON lines on stdin and answers each with one JSON line on stdout,
//! so a test can act between steps (revoke a grant, read the audit log).

use std::fmt;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// How long the test waits for one step's answer before giving up on the driver. The
/// drivers time steps out themselves first (20 s), so this only catches a stuck process.
const STEP_PATIENCE: Duration = Duration::from_secs(60);

/// An official MCP client SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    /// Python `mcp` 2.x (`streamable_http_client` with an `httpx2.AsyncClient`).
    Python2,
    /// Python `mcp` 1.x (`streamablehttp_client(url, headers=...)`).
    Python1,
    /// TypeScript `@modelcontextprotocol/sdk` (`StreamableHTTPClientTransport`).
    TypeScript,
    /// TypeScript 2.x `@modelcontextprotocol/client`, which negotiates its era
    /// (`versionNegotiation`); `tests/e2e/clients/ts2_client.mjs`.
    TypeScript2,
}

impl Sdk {
    /// The SDKs the handshake-era suites drive; `eras.rs` adds [`Sdk::TypeScript2`].
    pub const ALL: [Sdk; 3] = [Sdk::Python2, Sdk::Python1, Sdk::TypeScript];

    /// Whether its driver can pick a [`Mode`] (the 2.x clients).
    pub fn negotiates(self) -> bool {
        matches!(self, Sdk::Python2 | Sdk::TypeScript2)
    }

    fn command(self) -> Command {
        let dir = crate::e2e_dir();
        let mut command = match self {
            Sdk::Python2 | Sdk::Python1 => {
                let venv = if self == Sdk::Python2 {
                    ".venv-mcp2"
                } else {
                    ".venv-mcp1"
                };
                let mut command = Command::new(dir.join(venv).join("bin/python"));
                command.arg("-u").arg(dir.join("clients/py_client.py"));
                command
            }
            Sdk::TypeScript | Sdk::TypeScript2 => {
                let driver = if self == Sdk::TypeScript {
                    "clients/ts_client.mjs"
                } else {
                    "clients/ts2_client.mjs"
                };
                let mut command = Command::new("node");
                command.arg(dir.join(driver));
                command
            }
        };
        command.current_dir(dir);
        command
    }
}

impl fmt::Display for Sdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sdk::Python2 => "Python SDK 2.x",
            Sdk::Python1 => "Python SDK 1.x",
            Sdk::TypeScript => "TypeScript SDK",
            Sdk::TypeScript2 => "TypeScript SDK 2.x",
        })
    }
}

/// The protocol version of the current MCP revision (stateless, `server/discover`).
pub const MODERN: &str = "2026-07-28";
/// The last handshake-era revision (`initialize`, sessions).
pub const HANDSHAKE: &str = "2025-11-25";

/// How a 2.x client negotiates its protocol version (Python `Client(mode=...)`,
/// TypeScript `versionNegotiation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Probe `server/discover`, fall back to `initialize`.
    Auto,
    /// `initialize` only.
    Legacy,
    /// Adopt [`MODERN`] without fallback (Python `mode="2026-07-28"`, TypeScript `{pin}`).
    Pinned,
}

impl Mode {
    /// The driver's `MCPGATE_E2E_MODE`.
    fn as_env(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Legacy => "legacy",
            Mode::Pinned => MODERN,
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::Pinned => write!(f, "pinned {MODERN}"),
            other => write!(f, "mode {}", other.as_env()),
        }
    }
}

/// What a driver does beyond its SDK's defaults.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// The negotiation mode of a 2.x client (`None`: the driver's session API, which
    /// runs the `initialize` handshake).
    pub mode: Option<Mode>,
    /// Declare elicitation and accept every one with this content.
    pub elicit_reply: Option<Value>,
}

/// One `tools/call` as the SDK returned it.
#[derive(Debug, Clone)]
pub struct CallOutcome(pub Value);

impl CallOutcome {
    /// `isError` of a result (false when the call failed with a JSON-RPC error).
    pub fn is_error(&self) -> bool {
        self.0["isError"] == true
    }

    /// The result's text blocks, joined.
    pub fn text(&self) -> &str {
        self.0["text"].as_str().unwrap_or_default()
    }

    /// The JSON-RPC error (`{"code", "message"}`), if the call failed with one.
    pub fn error(&self) -> Option<&Value> {
        self.0.get("error")
    }

    /// Progress notifications received, each with its arrival time `at` (epoch seconds).
    pub fn progress(&self) -> &[Value] {
        self.0["progress"].as_array().map_or(&[], Vec::as_slice)
    }

    /// Elicitations the client answered during the call (`{"message"}` each).
    pub fn elicitations(&self) -> &[Value] {
        self.0["elicitations"].as_array().map_or(&[], Vec::as_slice)
    }

    /// When the call was sent and when its result arrived (epoch seconds).
    pub fn started(&self) -> f64 {
        self.0["started"].as_f64().expect("a start time")
    }

    /// See [`CallOutcome::started`].
    pub fn finished(&self) -> f64 {
        self.0["finished"].as_f64().expect("a finish time")
    }
}

/// A running driver with an initialized MCP session through the proxy.
#[derive(Debug)]
pub struct Driver {
    /// Which SDK it drives.
    pub sdk: Sdk,
    /// The driver's `initialize` line (`sdk`, `protocolVersion`, `serverInfo`).
    pub initialize: Value,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<String>>,
}

impl Driver {
    /// Starts the driver and waits for its session to be initialized.
    ///
    /// # Panics
    /// When the driver cannot start or `initialize` fails, with the driver's stderr.
    pub async fn start(sdk: Sdk, url: &str, token: &str) -> Driver {
        Self::spawn(sdk, url, token, None).await
    }

    /// [`Driver::start`] over the legacy HTTP+SSE transport (`url` is the `/sse`
    /// endpoint); Python SDKs only.
    pub async fn start_legacy_sse(sdk: Sdk, url: &str, token: &str) -> Driver {
        let mut command = sdk.command();
        command.env("MCPGATE_E2E_TRANSPORT", "sse");
        Self::spawn_with(command, sdk, url, token).await
    }

    /// [`Driver::start`] for a client that declares the sampling capability and answers
    /// every `sampling/createMessage` with `reply`.
    pub async fn start_sampling(sdk: Sdk, url: &str, token: &str, reply: &str) -> Driver {
        Self::spawn(sdk, url, token, Some(reply)).await
    }

    /// Starts a driver as `launch` says and waits for it to connect.
    ///
    /// # Panics
    /// When a mode is asked of a 1.x SDK, or the driver cannot connect.
    pub async fn launch(sdk: Sdk, url: &str, token: &str, launch: &Launch) -> Driver {
        let mut command = sdk.command();
        if let Some(mode) = launch.mode {
            assert!(sdk.negotiates(), "{sdk} has no negotiation mode");
            command.env("MCPGATE_E2E_MODE", mode.as_env());
        }
        if let Some(reply) = &launch.elicit_reply {
            command.env("MCPGATE_E2E_ELICIT_REPLY", reply.to_string());
        }
        Self::spawn_with(command, sdk, url, token).await
    }

    /// The protocol version the client negotiated (`initialize`, `server/discover` or
    /// a pin), as its SDK reports it.
    pub fn protocol_version(&self) -> &str {
        self.initialize["protocolVersion"]
            .as_str()
            .unwrap_or_default()
    }

    async fn spawn(sdk: Sdk, url: &str, token: &str, sampling_reply: Option<&str>) -> Driver {
        let mut command = sdk.command();
        if let Some(reply) = sampling_reply {
            command.env("MCPGATE_E2E_SAMPLING_REPLY", reply);
        }
        Self::spawn_with(command, sdk, url, token).await
    }

    async fn spawn_with(mut command: Command, sdk: Sdk, url: &str, token: &str) -> Driver {
        let mut child = command
            .arg(url)
            .arg(token)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting the {sdk} driver: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("a stderr pipe");
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            let mut buffer = vec![0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buffer).await {
                sink.lock()
                    .expect("stderr lock")
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let mut driver = Driver {
            sdk,
            initialize: Value::Null,
            stdin: child.stdin.take(),
            lines: BufReader::new(child.stdout.take().expect("a stdout pipe")).lines(),
            child,
            stderr,
        };
        let first = driver.next_line().await;
        assert_eq!(
            first["op"],
            "initialize",
            "{sdk}: initialize failed: {first}\n{}",
            driver.stderr()
        );
        driver.initialize = first;
        driver
    }

    /// What the driver wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// Runs one step; its answer, or `{"op":"transport_error",...}` when the session
    /// failed, or `{"op":"exited"}` when the driver is gone.
    pub async fn try_step(&mut self, step: Value) -> Value {
        let Some(stdin) = self.stdin.as_mut() else {
            return json!({"op": "exited"});
        };
        let line = format!("{step}\n");
        if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
            return json!({"op": "exited"});
        }
        self.next_line().await
    }

    /// Runs one step that must not break the session.
    ///
    /// # Panics
    /// On a transport or session failure, with the driver's stderr.
    pub async fn step(&mut self, step: Value) -> Value {
        let answer = self.try_step(step.clone()).await;
        let op = answer["op"].as_str().unwrap_or_default();
        if op == "transport_error" || op == "exited" {
            panic!(
                "{}: the session failed at step {step}: {answer}\n--- driver stderr ---\n{}",
                self.sdk,
                self.stderr()
            );
        }
        answer
    }

    /// `tools/list`, every page: the tool names.
    pub async fn list_tools(&mut self) -> Vec<String> {
        let answer = self.step(json!({"op": "list"})).await;
        answer["tools"]
            .as_array()
            .expect("a tool list")
            .iter()
            .map(|name| name.as_str().expect("a tool name").to_owned())
            .collect()
    }

    /// One `tools/call`.
    pub async fn call(&mut self, tool: &str, arguments: Value) -> CallOutcome {
        self.call_times(tool, arguments, 1)
            .await
            .pop()
            .expect("one result")
    }

    /// The same `tools/call`, `times` times in a row.
    pub async fn call_times(
        &mut self,
        tool: &str,
        arguments: Value,
        times: u32,
    ) -> Vec<CallOutcome> {
        let step = json!({"op": "call", "tool": tool, "arguments": arguments, "times": times});
        self.results(step).await
    }

    /// One `tools/call` with a progress token; the notifications are in the outcome.
    pub async fn call_with_progress(&mut self, tool: &str, arguments: Value) -> CallOutcome {
        let step = json!({"op": "call", "tool": tool, "arguments": arguments, "progress": true});
        self.results(step).await.pop().expect("one result")
    }

    async fn results(&mut self, step: Value) -> Vec<CallOutcome> {
        let answer = self.step(step).await;
        answer["results"]
            .as_array()
            .expect("call results")
            .iter()
            .cloned()
            .map(CallOutcome)
            .collect()
    }

    /// Closes stdin (the driver ends its session and exits) and waits for it.
    pub async fn finish(mut self) -> (ExitStatus, String) {
        self.stdin.take();
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{}: the driver did not exit\n{}", self.sdk, self.stderr()))
            .expect("waiting for the driver");
        // Let the stderr reader catch up with the last lines.
        tokio::time::sleep(Duration::from_millis(50)).await;
        (status, self.stderr())
    }

    async fn next_line(&mut self) -> Value {
        let line = tokio::time::timeout(STEP_PATIENCE, self.lines.next_line())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{}: no answer in {STEP_PATIENCE:?}\n--- driver stderr ---\n{}",
                    self.sdk,
                    self.stderr()
                )
            })
            .expect("reading the driver's stdout");
        match line {
            Some(line) => serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("{}: not a JSON line ({e}): {line}", self.sdk)),
            None => {
                self.stdin.take();
                json!({"op": "exited"})
            }
        }
    }
}
