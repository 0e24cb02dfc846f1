//! Discovery against servers built on the official Python SDK: 2.x `MCPServer`
//! (dual-era) and 1.x `FastMCP` (handshake only, which answers the probe
//! 400 "Missing session ID"). The SDKs are installed by `scripts/prereqs.sh` in
//! `MCPGATE_E2E_DIR` (`tests/e2e`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mcpgate_upstream::{discover, Era};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::local;

/// A running SDK server; killed on drop.
struct SdkServer {
    _child: Child,
    url: String,
}

async fn spawn(venv: &str) -> SdkServer {
    let e2e = std::env::var_os("MCPGATE_E2E_DIR")
        .map(PathBuf::from)
        .expect(
            "MCPGATE_E2E_DIR is not set: run the tests with scripts/test.sh, which installs the \
         Python SDKs there and sets it",
        );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/discover/sdk_server.py");
    let mut child = Command::new(e2e.join(venv).join("bin/python"))
        .arg("-u")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Python in {venv}: {e}"));
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let port = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(port) = line.strip_prefix("LISTENING ") {
                return port.trim().to_owned();
            }
        }
        panic!("the SDK server in {venv} exited before listening");
    })
    .await
    .expect("the SDK server listens within 30 s");
    SdkServer {
        _child: child,
        url: format!("http://127.0.0.1:{port}/mcp"),
    }
}

#[tokio::test]
async fn a_python_sdk_2_server_is_discovered_in_the_modern_era() {
    let server = spawn(".venv-mcp2").await;
    let discovery = discover(&server.url, &[], local()).await.unwrap();
    assert_eq!(discovery.era, Era::Modern);
    assert_eq!(discovery.protocol_version, "2026-07-28");
    let names: Vec<&str> = discovery.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["echo", "add"]);
    assert_eq!(discovery.server_info["name"], "discovery-sdk-server");
}

#[tokio::test]
async fn a_python_sdk_1_server_is_discovered_by_handshake_after_refusing_the_probe() {
    let server = spawn(".venv-mcp1").await;
    let discovery = discover(&server.url, &[], local()).await.unwrap();
    assert_eq!(discovery.era, Era::Handshake);
    assert_eq!(discovery.protocol_version, "2025-06-18");
    let names: Vec<&str> = discovery.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["echo", "add"]);
}
