//! mcpgate as the OAuth 2.1 authorization server of its proxy URLs (issue 15, item 1;
//! MCP 2026-07-28 `basic/authorization`).
//!
//! A client finds us from a proxy URL's Protected Resource Metadata (served by the proxy),
//! reads our metadata (RFC 8414) here, identifies itself with a Client ID Metadata
//! Document (fetched through the SSRF guard, cached) or a Dynamic Client Registration,
//! sends the person to `/oauth/authorize` (dashboard sign-in, then a consent page), and
//! exchanges the single-use code (PKCE S256, exact redirect URI, one resource) at
//! `/oauth/token` for a short-lived access token whose audience is that proxy URL and a
//! rotating refresh token; `/oauth/revoke` (RFC 7009) lets the client end it. Each
//! connection is a grant scoped to that one server, so the proxy authenticates, governs,
//! audits and cuts it off like any other grant.
//!
//! These endpoints are public (no API key); only the consent step needs a signed-in
//! member who may manage grants.

mod audit;
mod authorize;
mod clients;
mod consent;
mod error;
mod metadata;
mod pkce;
mod register;
mod revoke;
mod token;

use std::time::Duration;

use mcpgate_store::ServerId;

use crate::access::{Access, Routes};
use crate::state::PublicUrls;

pub(crate) use clients::ClientDirectory;

/// How long an access token lasts by default (`MCPGATE_API_OAUTH_ACCESS_TOKEN_SECONDS`).
/// Revocation does not wait for it: the proxy checks the grant on every request.
pub const DEFAULT_OAUTH_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a code may wait for its exchange.
const CODE_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// How long a refresh token lasts unused (never past the grant's own expiry).
const REFRESH_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// What the authorization server keeps between requests.
#[derive(Debug)]
pub(crate) struct OAuthServer {
    pub(crate) clients: ClientDirectory,
    pub(crate) access_token_lifetime: Duration,
}

/// The OAuth routes, all public: the consent step reads the dashboard session itself, and
/// refuses a member whose role may not issue grants.
pub(crate) fn router() -> Routes {
    Routes::dashboard()
        .get(
            "/.well-known/oauth-authorization-server",
            Access::Public,
            metadata::authorization_server,
        )
        .get(
            "/.well-known/oauth-authorization-server/{*issuer_path}",
            Access::Public,
            metadata::authorization_server,
        )
        .get("/oauth/authorize", Access::Public, authorize::show)
        .post("/oauth/authorize", Access::Public, authorize::decide)
        .post("/oauth/token", Access::Public, token::exchange)
        .post("/oauth/revoke", Access::Public, revoke::revoke)
        .post("/oauth/register", Access::Public, register::register)
}

/// Our issuer identifier for the API's public URL: that URL as a URL parser writes it
/// (`https://host/` at the root), which is how the SDKs render the issuer they compare
/// `iss` with. The proxy's metadata names the same string (one function for both).
pub fn oauth_issuer(public_api_url: &str) -> String {
    let trimmed = public_api_url.trim_end_matches('/');
    url::Url::parse(trimmed).map_or_else(|_| trimmed.to_owned(), |url| url.to_string())
}

pub(crate) fn issuer(urls: &PublicUrls) -> String {
    oauth_issuer(&urls.api)
}

/// An API endpoint's public URL.
fn endpoint(urls: &PublicUrls, path: &str) -> String {
    format!("{}{path}", urls.api)
}

/// The server whose proxy URL `resource` is (RFC 8707), in the form the proxy's metadata
/// gives (`{proxy}/mcp/{id}`) or with the trailing slash the dashboard shows.
pub(crate) fn resource_server(urls: &PublicUrls, resource: &str) -> Option<ServerId> {
    let id = resource
        .strip_prefix(urls.proxy.as_str())?
        .strip_prefix("/mcp/")?;
    id.strip_suffix('/').unwrap_or(id).parse().ok()
}

/// The canonical resource of a server: what access tokens name as their audience.
pub(crate) fn resource_of(urls: &PublicUrls, server: ServerId) -> String {
    format!("{}/mcp/{server}", urls.proxy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls() -> PublicUrls {
        PublicUrls {
            proxy: "https://proxy.example.com".into(),
            api: "https://api.example.com".into(),
        }
    }

    #[test]
    fn the_issuer_is_written_as_a_url_parser_writes_it() {
        assert_eq!(issuer(&urls()), "https://api.example.com/");
        let prefixed = PublicUrls {
            api: "https://example.com/gate".into(),
            ..urls()
        };
        assert_eq!(issuer(&prefixed), "https://example.com/gate");
    }

    #[test]
    fn a_resource_names_a_server_only_in_the_proxy_s_own_forms() {
        let server = ServerId::new();
        let canonical = resource_of(&urls(), server);
        assert_eq!(resource_server(&urls(), &canonical), Some(server));
        assert_eq!(
            resource_server(&urls(), &format!("{canonical}/")),
            Some(server)
        );
        assert_eq!(
            resource_server(&urls(), &format!("https://evil.example.com/mcp/{server}")),
            None
        );
        assert_eq!(resource_server(&urls(), &format!("{canonical}/x")), None);
        assert_eq!(
            resource_server(&urls(), "https://proxy.example.com/mcp/"),
            None
        );
    }
}
