//! `tests/e2e/servers/conformance_server.py`, the dual-era upstream with the fixtures the
//! conformance suite calls, as a child process on loopback; killed when dropped. It binds
//! `127.0.0.1:0` itself and prints the address it got, so nothing races for a port.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const LISTENING: &str = "MCPGATE_E2E_LISTENING ";

/// A running conformance upstream.
#[derive(Debug)]
pub struct ConformanceUpstream {
    address: SocketAddr,
    child: Child,
}

impl ConformanceUpstream {
    /// Starts it with the Python SDK 2.x and waits until it listens.
    ///
    /// # Panics
    /// When it does not start within 30 seconds, with what it printed.
    pub async fn start() -> ConformanceUpstream {
        let dir = mcpgate_e2e::e2e_dir();
        let mut child = Command::new(dir.join(".venv-mcp2/bin/python"))
            .arg("-u")
            .arg(dir.join("servers/conformance_server.py"))
            .args(["--port", "0"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting conformance_server.py with the Python SDK 2.x");
        let mut lines = BufReader::new(child.stderr.take().expect("a stderr pipe")).lines();
        let mut printed = String::new();
        let address = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(address) = line.strip_prefix(LISTENING) {
                    return address.parse::<SocketAddr>().ok();
                }
                printed.push_str(&line);
                printed.push('\n');
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("conformance_server.py did not start:\n{printed}"));
        assert!(
            address.ip().is_loopback(),
            "the conformance upstream must listen on loopback only, not {address}"
        );
        // Keep draining its stderr so a chatty server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ConformanceUpstream { address, child }
    }

    /// Its Streamable HTTP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }
}

impl Drop for ConformanceUpstream {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
