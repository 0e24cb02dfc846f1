//! Helpers for the end-to-end tests, shared by this package's test targets
//! (`readiness.rs`, `sdk.rs`, ...): the control plane's REST API as a tenant uses it,
//! the official MCP SDKs driven as child processes (`tests/e2e/clients/`), and the
//! reference server `@modelcontextprotocol/server-everything` as an upstream.
//!
//! The SDKs and the reference server are installed by `scripts/test.sh`
//! (`ensure_e2e_clients` in `scripts/prereqs.sh`), which exports `MCPGATE_E2E_DIR`.

pub mod api;
pub mod drivers;
pub mod everything;
pub mod oauth_upstream;
pub mod policy_server;
pub mod raw;
pub mod window;

use std::path::PathBuf;

/// The variable `scripts/test.sh` sets to the `tests/e2e` directory.
pub const E2E_DIR: &str = "MCPGATE_E2E_DIR";

/// `tests/e2e`: the SDK drivers, `node_modules` and the Python virtualenvs.
///
/// # Panics
/// When the SDKs are not installed there, naming the script that installs them.
pub fn e2e_dir() -> PathBuf {
    let dir = std::env::var_os(E2E_DIR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/e2e")));
    let installed = [
        "node_modules/@modelcontextprotocol/sdk/package.json",
        "node_modules/@modelcontextprotocol/client/package.json",
        "node_modules/@modelcontextprotocol/server-everything/package.json",
        ".venv-mcp1/bin/python",
        ".venv-mcp2/bin/python",
    ];
    if let Some(missing) = installed.iter().find(|path| !dir.join(path).exists()) {
        panic!(
            "{} is missing: the end-to-end tests need the official MCP SDKs. Run the tests \
             with `scripts/test.sh`, which installs them (ensure_e2e_clients in \
             scripts/prereqs.sh), or set {E2E_DIR} to where they are installed.",
            dir.join(missing).display()
        );
    }
    dir
}
