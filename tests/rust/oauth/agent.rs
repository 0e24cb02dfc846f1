//! An official SDK client with OAuth and no pre-shared token (`tests/e2e/clients/
//! py_oauth_client.py`, `ts2_oauth_client.mjs`), driven one JSON line at a time.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::member::Member;

const PATIENCE: Duration = Duration::from_secs(60);

/// Which SDK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthSdk {
    Python2,
    TypeScript2,
}

impl OAuthSdk {
    fn command(self) -> Command {
        let dir = mcpgate_e2e::e2e_dir();
        let mut command = match self {
            OAuthSdk::Python2 => {
                let mut command = Command::new(dir.join(".venv-mcp2/bin/python"));
                command
                    .arg("-u")
                    .arg(dir.join("clients/py_oauth_client.py"));
                command
            }
            OAuthSdk::TypeScript2 => {
                let mut command = Command::new("node");
                command.arg(dir.join("clients/ts2_oauth_client.mjs"));
                command
            }
        };
        command.current_dir(dir);
        command
    }

    /// The `client_name` its driver registers with.
    pub fn client_name(self) -> &'static str {
        match self {
            OAuthSdk::Python2 => "mcpgate e2e (Python SDK)",
            OAuthSdk::TypeScript2 => "mcpgate e2e (TypeScript SDK)",
        }
    }
}

/// A running driver.
#[derive(Debug)]
pub struct Agent {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Agent {
    /// Starts the SDK on `url`; nothing is sent until the SDK's first request.
    pub fn start(sdk: OAuthSdk, url: &str) -> Agent {
        let mut child = sdk
            .command()
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("starting the SDK driver");
        let stdin = child.stdin.take().expect("its stdin");
        let stdout = child.stdout.take().expect("its stdout");
        Agent {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The driver's next line.
    pub async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(PATIENCE, self.lines.next_line())
            .await
            .expect("the driver answers in time")
            .expect("reading the driver")
            .unwrap_or_else(|| panic!("the driver ended: {:?}", self.child.try_wait()));
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("a JSON line, got {line}"))
    }

    pub async fn send(&mut self, value: Value) {
        let mut line = value.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("writing to the driver");
        self.stdin
            .flush()
            .await
            .expect("flushing the driver's stdin");
    }

    /// Sends a step and returns its answer.
    pub async fn step(&mut self, step: Value) -> Value {
        self.send(step).await;
        self.next().await
    }

    /// Lets the SDK connect: every authorization it asks for is consented to by `member`
    /// with `choice`. The `initialize` line.
    pub async fn connect(
        &mut self,
        member: &Member<'_>,
        choice: &[(&str, &str)],
    ) -> (Value, usize) {
        let mut authorizations = 0;
        loop {
            let line = self.next().await;
            match line["op"].as_str() {
                Some("authorize") => {
                    authorizations += 1;
                    let url = line["url"].as_str().expect("the authorization URL");
                    let callback = member.consent(url, choice).await;
                    self.send(json!({"callback": callback})).await;
                }
                Some("initialize") => return (line, authorizations),
                _ => panic!("the SDK could not connect: {line}"),
            }
        }
    }

    /// The SDK's current tokens and client id.
    pub async fn tokens(&mut self) -> (String, Option<String>, String) {
        let tokens = self.step(json!({"op": "tokens"})).await;
        (
            tokens["access_token"]
                .as_str()
                .expect("an access token")
                .to_owned(),
            tokens["refresh_token"].as_str().map(str::to_owned),
            tokens["client_id"]
                .as_str()
                .expect("a client id")
                .to_owned(),
        )
    }
}
