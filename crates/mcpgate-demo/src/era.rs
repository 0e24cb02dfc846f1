//! Which protocol era a request on `/mcp` belongs to, decided per request.

use axum::http::HeaderMap;

/// Versions negotiated by the `initialize` handshake (the legacy era).
pub const HANDSHAKE_VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// Versions served statelessly, with the envelope in every request's `_meta`.
pub const MODERN_VERSIONS: &[&str] = &["2026-07-28"];

/// The protocol era a request came in as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// 2025-11-25 and earlier: `initialize`, sessions, the GET stream, HTTP+SSE.
    Legacy,
    /// 2026-07-28 and later: stateless, `_meta` envelope, mirrored headers.
    Modern,
}

impl Era {
    /// The Python SDK server's rule (`streamable_http_manager.py`): an absent
    /// `MCP-Protocol-Version`, or a handshake version, is legacy; anything else is
    /// modern, so an unknown version reaches the modern ladder and gets `-32022`.
    pub fn of_headers(headers: &HeaderMap) -> Era {
        match headers.get("mcp-protocol-version") {
            None => Era::Legacy,
            Some(value) => {
                let value = value.to_str().unwrap_or_default().trim_matches([' ', '\t']);
                if HANDSHAKE_VERSIONS.contains(&value) {
                    Era::Legacy
                } else {
                    Era::Modern
                }
            }
        }
    }
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
    fn absent_and_handshake_versions_are_legacy_anything_else_modern() {
        assert_eq!(Era::of_headers(&HeaderMap::new()), Era::Legacy);
        for version in HANDSHAKE_VERSIONS {
            assert_eq!(Era::of_headers(&with_version(version)), Era::Legacy);
        }
        assert_eq!(Era::of_headers(&with_version("2026-07-28")), Era::Modern);
        assert_eq!(Era::of_headers(&with_version("v999.0.0")), Era::Modern);
    }
}
