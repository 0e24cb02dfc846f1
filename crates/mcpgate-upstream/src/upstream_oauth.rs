//! mcpgate as the OAuth 2.1 client of a tenant's upstream MCP server (MCP 2026-07-28
//! `basic/authorization`, client side): read the server's `401` challenge, find its
//! authorization server (Protected Resource Metadata, RFC 9728, then RFC 8414 or OpenID
//! Connect discovery), register mcpgate with it (RFC 7591) when the tenant brought no
//! client, build the authorization request (PKCE S256, RFC 8707 `resource`), and trade a
//! code or a refresh token for tokens.
//!
//! Every request goes through the SSRF-guarded client ([`crate::upstream_client`]): an
//! authorization server is as untrusted an address as the upstream that named it.
//! Nothing here stores or logs a token; the callers seal what it returns.

mod challenge;
mod metadata;
mod pkce;
mod token;

pub use challenge::BearerChallenge;
pub use metadata::{discover_authorization, AuthorizationServer, ProtectedResource};
pub use pkce::{random_state, state_hash, Pkce};
pub use token::{
    authorization_url, exchange_code, refresh_tokens, register_client, AuthorizationRequest,
    ClientCredentials, TokenSet,
};

/// Why an OAuth step with an upstream's authorization server failed, worded for the
/// tenant who connects the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A metadata document could not be fetched or read.
    #[error("{url}: {reason}")]
    Metadata {
        /// The document's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The authorization server cannot be used as MCP requires (no PKCE S256, an issuer
    /// that is not the one named, ...).
    #[error("the authorization server {issuer} cannot be used: {reason}")]
    Unsuitable {
        /// Its issuer (or the URL it was looked up at).
        issuer: String,
        /// Why.
        reason: String,
    },
    /// The server refused the request with an OAuth error (`invalid_grant`, ...): the
    /// grant is gone, so only a person connecting again helps.
    #[error("the authorization server refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        /// The OAuth `error` code.
        error: String,
        /// Its `error_description`, if any.
        description: Option<String>,
    },
    /// The server could not be reached or answered out of protocol: trying again later
    /// may work.
    #[error("the authorization server is unavailable: {0}")]
    Unavailable(String),
}

impl OAuthError {
    /// Whether the grant itself is refused (connect again), rather than the server
    /// being unavailable for now (retry).
    pub fn is_refusal(&self) -> bool {
        matches!(self, OAuthError::Refused { .. })
    }
}
