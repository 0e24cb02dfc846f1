//! Which protocol era a request on `/mcp` belongs to, decided per request.
//!
//! The era vocabulary is mcpgate's own ([`mcpgate_mcp::Era`]); the header checks of
//! the modern era are not borrowed from mcpgate-mcp on purpose: the demo plays the
//! upstream in the proxy's tests, and an upstream validating with the proxy's own
//! code could not catch a mistake in it.

use axum::http::HeaderMap;
use mcpgate_mcp::Era;

/// Versions served statelessly, with the envelope in every request's `_meta`.
pub const MODERN_VERSIONS: &[&str] = &[mcpgate_mcp::MODERN_VERSION];

/// The Python SDK server's rule (`streamable_http_manager.py`): an absent
/// `MCP-Protocol-Version`, or a handshake version, is the handshake era; anything
/// else is modern, so an unknown version reaches the modern ladder and gets `-32022`.
pub(crate) fn era_of(headers: &HeaderMap) -> Era {
    let version = headers
        .get("mcp-protocol-version")
        .map(|value| value.to_str().unwrap_or_default());
    Era::of(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_version(version: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("mcp-protocol-version", version.parse().unwrap());
        headers
    }

    #[test]
    fn absent_and_handshake_versions_are_handshake_anything_else_modern() {
        assert_eq!(era_of(&HeaderMap::new()), Era::Handshake);
        for version in mcpgate_mcp::HANDSHAKE_VERSIONS {
            assert_eq!(era_of(&with_version(version)), Era::Handshake);
        }
        assert_eq!(era_of(&with_version("2026-07-28")), Era::Modern);
        assert_eq!(era_of(&with_version("v999.0.0")), Era::Modern);
    }
}
