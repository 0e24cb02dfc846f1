//! `tests/e2e/servers/policy_server.py`, a dual-era upstream on the official Python SDK
//! 2.x `MCPServer` (2026-07-28 and the 2025-11-25 handshake on one endpoint), with one
//! tool per policy outcome; a child process on loopback, killed when dropped.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const LISTENING: &str = "MCPGATE_E2E_LISTENING ";

/// Every tool the server offers.
pub const TOOLS: [&str; 6] = [
    "ask_name",
    "delete_file",
    "k8s_run_pod",
    "restart_service",
    "secret_tool",
    "slow_task",
];

/// A running policy server.
#[derive(Debug)]
pub struct PolicyServer {
    address: SocketAddr,
    child: Child,
}

impl PolicyServer {
    /// Starts it on a free port and waits until it listens.
    ///
    /// # Panics
    /// When it does not start within 30 seconds, with what it printed.
    pub async fn start() -> PolicyServer {
        let dir = crate::e2e_dir();
        let mut child = Command::new(dir.join(".venv-mcp2/bin/python"))
            .arg("-u")
            .arg(dir.join("servers/policy_server.py"))
            .arg("0")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting policy_server.py");
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
            panic!("policy_server.py did not start:\n{printed}");
        };
        assert!(address.ip().is_loopback(), "listening on {address}");
        // Keep draining both pipes so a chatty server never blocks on a full one.
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                eprintln!("policy_server: {line}");
            }
        });
        PolicyServer { address, child }
    }

    /// Its Streamable HTTP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }
}

impl Drop for PolicyServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
