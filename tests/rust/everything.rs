//! `@modelcontextprotocol/server-everything`, the reference MCP server, as a child
//! process in Streamable HTTP mode, on loopback only; killed when dropped.
//!
//! The server takes its port from `PORT` but has no setting for the host: it calls
//! `app.listen(PORT)`, which binds every interface. `tests/e2e/loopback.mjs`, preloaded
//! with `node --import`, pins it to 127.0.0.1 and prints the bound address, so the test
//! passes `PORT=0` and reads the port instead of racing for a free one.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const LISTENING: &str = "MCPGATE_E2E_LISTENING ";

/// A running server-everything.
#[derive(Debug)]
pub struct Everything {
    address: SocketAddr,
    child: Child,
}

impl Everything {
    /// Starts it and waits until it listens.
    ///
    /// # Panics
    /// When it does not start within 30 seconds, with what it printed.
    pub async fn start() -> Everything {
        let dir = crate::e2e_dir();
        let mut child = Command::new("node")
            .arg("--import")
            .arg(dir.join("loopback.mjs"))
            .arg(dir.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"))
            .arg("streamableHttp")
            .env("PORT", "0")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting server-everything with node");
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
        .unwrap_or_else(|| panic!("server-everything did not start:\n{printed}"));
        assert!(
            address.ip().is_loopback(),
            "server-everything must listen on loopback only, not {address}"
        );
        // Keep draining its stderr so a chatty server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Everything { address, child }
    }

    /// Its Streamable HTTP endpoint, `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.address)
    }
}

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
