use std::time::Duration;

use crate::address::BlockReason;

/// Why discovery failed, worded for the person who registered the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    /// The URL is not an absolute http(s) URL.
    #[error("invalid upstream URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The address policy forbids the destination (SSRF guard).
    #[error(
        "refused to connect to {address}: it is {reason}{}",
        if *reason == BlockReason::OwnAddress { "" } else { ", and only public addresses are allowed" }
    )]
    Refused {
        /// The name and/or address refused.
        address: String,
        /// Why.
        reason: BlockReason,
    },
    /// Connection refused, DNS failure, TLS failure or reset.
    #[error("cannot reach {address}: {cause}")]
    Unreachable {
        /// `host:port`.
        address: String,
        /// The underlying error.
        cause: String,
    },
    /// No complete answer within the time allowed.
    #[error("{url} did not complete MCP discovery within {after:?}")]
    Timeout {
        /// The URL being discovered.
        url: String,
        /// The limit that was hit.
        after: Duration,
    },
    /// Something answered, but not as an MCP server does.
    #[error("{url} does not look like an MCP server: HTTP {status}, content type {content_type}: {detail}", content_type = content_type.as_deref().unwrap_or("none"))]
    NotMcp {
        /// The URL that answered.
        url: String,
        /// Its HTTP status.
        status: u16,
        /// Its `Content-Type`.
        content_type: Option<String>,
        /// What was expected, or the start of the body.
        detail: String,
    },
    /// 401 or 403: the credentials were missing or wrong.
    #[error("{url} refused the request with HTTP {status}: check the headers registered for this server")]
    Unauthorized {
        /// The URL that refused.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The `Bearer` challenge of a 401, when there is one: a server protected by
        /// OAuth names its Protected Resource Metadata there.
        challenge: Option<crate::upstream_oauth::BearerChallenge>,
    },
    /// The upstream refused discovery's protocol version (`-32022`) and supports none
    /// mcpgate speaks.
    #[error(
        "{url} supports only MCP protocol versions {}, and mcpgate speaks {} and {} to {}",
        supported.join(", "),
        mcpgate_mcp::MODERN_VERSION,
        mcpgate_mcp::HANDSHAKE_VERSIONS[0],
        mcpgate_mcp::HANDSHAKE_VERSIONS[mcpgate_mcp::HANDSHAKE_VERSIONS.len() - 1]
    )]
    UnsupportedVersion {
        /// The URL that answered.
        url: String,
        /// The versions it named (`data.supported`), as sent.
        supported: Vec<String>,
    },
    /// A JSON-RPC error, or a response that breaks the protocol.
    #[error("{method} failed: {message}{}", code.map(|c| format!(" (JSON-RPC error {c})")).unwrap_or_default())]
    Protocol {
        /// The MCP method.
        method: String,
        /// The JSON-RPC error code, if the server sent one.
        code: Option<i64>,
        /// The server's message, or what was wrong with its answer.
        message: String,
    },
}
