//! Finding an upstream's authorization server: its Protected Resource Metadata (RFC
//! 9728), then the server's own metadata (RFC 8414, else OpenID Connect Discovery), in
//! the order MCP 2026-07-28 prescribes.

use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use super::{BearerChallenge, OAuthError};
use crate::error_chain;

/// Largest metadata document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Time for one metadata request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What the MCP server says about itself as a protected resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedResource {
    /// The resource identifier tokens are requested for (RFC 8707 `resource`).
    pub resource: String,
    /// Where the metadata was read.
    pub metadata_url: String,
    /// The authorization server chosen (the first one listed).
    pub authorization_server: String,
    /// The scope to ask for: the challenge's, else every `scopes_supported`.
    pub scope: Option<String>,
}

/// The authorization server's endpoints and abilities, from its validated metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationServer {
    /// Its `issuer`, equal to the identifier the resource named (RFC 8414 §3.3).
    pub issuer: String,
    /// Where the browser goes.
    pub authorization_endpoint: String,
    /// Where codes and refresh tokens are traded.
    pub token_endpoint: String,
    /// Dynamic Client Registration, when offered.
    pub registration_endpoint: Option<String>,
    /// It fetches Client ID Metadata Documents.
    pub client_id_metadata_document_supported: bool,
    /// It sends `iss` in authorization responses (RFC 9207): a response without it is
    /// then refused.
    pub iss_parameter_supported: bool,
}

#[derive(Debug, Deserialize)]
struct ResourceDocument {
    resource: Option<String>,
    #[serde(default)]
    authorization_servers: Vec<String>,
    scopes_supported: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct ServerDocument {
    issuer: String,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    registration_endpoint: Option<String>,
    code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    client_id_metadata_document_supported: bool,
    #[serde(default)]
    authorization_response_iss_parameter_supported: bool,
}

/// Reads the resource's metadata (at the challenge's `resource_metadata`, else the
/// well-known URIs for `server_url`) and its authorization server's.
pub async fn discover_authorization(
    client: &reqwest::Client,
    server_url: &str,
    challenge: &BearerChallenge,
) -> Result<(ProtectedResource, AuthorizationServer), OAuthError> {
    let server = parse_url(server_url)?;
    let candidates = match &challenge.resource_metadata {
        Some(url) => vec![parse_url(url)?],
        None => resource_metadata_urls(&server),
    };
    let (metadata_url, document) = first_document::<ResourceDocument>(client, &candidates).await?;
    let resource = document.resource.unwrap_or_else(|| server_url.to_owned());
    // RFC 9728 §3.3: the metadata must be about the server we asked for.
    if !same_resource(&resource, server_url) {
        return Err(OAuthError::Metadata {
            url: metadata_url.to_string(),
            reason: format!("it describes resource {resource:?}, not {server_url:?}"),
        });
    }
    let authorization_server =
        document
            .authorization_servers
            .first()
            .cloned()
            .ok_or_else(|| OAuthError::Metadata {
                url: metadata_url.to_string(),
                reason: "it names no authorization_servers".to_owned(),
            })?;
    let scope = challenge.scope.clone().or_else(|| {
        document
            .scopes_supported
            .filter(|scopes| !scopes.is_empty())
            .map(|scopes| scopes.join(" "))
    });
    let issuer_url = parse_url(&authorization_server)?;
    let (server_metadata_url, server_document) =
        first_document::<ServerDocument>(client, &server_metadata_urls(&issuer_url)).await?;
    let validated = validate_server(&authorization_server, &server_metadata_url, server_document)?;
    Ok((
        ProtectedResource {
            resource,
            metadata_url: metadata_url.to_string(),
            authorization_server,
            scope,
        },
        validated,
    ))
}

fn validate_server(
    expected_issuer: &str,
    url: &Url,
    document: ServerDocument,
) -> Result<AuthorizationServer, OAuthError> {
    let unsuitable = |reason: &str| OAuthError::Unsuitable {
        issuer: expected_issuer.to_owned(),
        reason: reason.to_owned(),
    };
    // Exact string comparison (RFC 8414 §3.3): a metadata document that names another
    // issuer could be an impersonation.
    if document.issuer != expected_issuer {
        return Err(OAuthError::Metadata {
            url: url.to_string(),
            reason: format!(
                "its issuer {:?} is not {expected_issuer:?}",
                document.issuer
            ),
        });
    }
    // MCP: without code_challenge_methods_supported listing S256, refuse to proceed.
    let s256 = document
        .code_challenge_methods_supported
        .as_ref()
        .is_some_and(|methods| methods.iter().any(|m| m == "S256"));
    if !s256 {
        return Err(unsuitable(
            "it does not advertise PKCE S256 (code_challenge_methods_supported)",
        ));
    }
    let endpoint = |value: Option<String>, name: &str| {
        value
            .filter(|v| parse_url(v).is_ok())
            .ok_or_else(|| unsuitable(&format!("it has no usable {name}")))
    };
    Ok(AuthorizationServer {
        authorization_endpoint: endpoint(
            document.authorization_endpoint,
            "authorization_endpoint",
        )?,
        token_endpoint: endpoint(document.token_endpoint, "token_endpoint")?,
        registration_endpoint: document
            .registration_endpoint
            .filter(|v| parse_url(v).is_ok()),
        client_id_metadata_document_supported: document.client_id_metadata_document_supported,
        iss_parameter_supported: document.authorization_response_iss_parameter_supported,
        issuer: document.issuer,
    })
}

/// RFC 9728 §3.1: the well-known URI inserted before the server's path, then at the root.
fn resource_metadata_urls(server: &Url) -> Vec<Url> {
    let path = server.path().trim_end_matches('/');
    let mut urls = Vec::with_capacity(2);
    if !path.is_empty() {
        urls.push(with_path(
            server,
            &format!("/.well-known/oauth-protected-resource{path}"),
        ));
    }
    urls.push(with_path(server, "/.well-known/oauth-protected-resource"));
    urls
}

/// MCP's order: RFC 8414 with path insertion, OpenID Connect with path insertion, OpenID
/// Connect with the path appended; for an issuer without a path, the two at the root.
fn server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    if path.is_empty() {
        return vec![
            with_path(issuer, "/.well-known/oauth-authorization-server"),
            with_path(issuer, "/.well-known/openid-configuration"),
        ];
    }
    vec![
        with_path(
            issuer,
            &format!("/.well-known/oauth-authorization-server{path}"),
        ),
        with_path(issuer, &format!("/.well-known/openid-configuration{path}")),
        with_path(issuer, &format!("{path}/.well-known/openid-configuration")),
    ]
}

fn with_path(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(path);
    url.set_query(None);
    url.set_fragment(None);
    url
}

/// The first candidate that answers 200 with a JSON document of the expected shape.
async fn first_document<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    candidates: &[Url],
) -> Result<(Url, T), OAuthError> {
    let mut last = None;
    for url in candidates {
        match fetch_json(client, url).await {
            Ok(document) => return Ok((url.clone(), document)),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| OAuthError::Unavailable("no metadata URL to try".to_owned())))
}

async fn fetch_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &Url,
) -> Result<T, OAuthError> {
    let failed = |reason: String| OAuthError::Metadata {
        url: url.to_string(),
        reason,
    };
    let request = client
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send();
    let mut response = tokio::time::timeout(REQUEST_TIMEOUT, request)
        .await
        .map_err(|_| failed(format!("no answer within {REQUEST_TIMEOUT:?}")))?
        .map_err(|e| failed(format!("cannot be fetched: {}", error_chain(&e))))?;
    if !response.status().is_success() {
        return Err(failed(format!("HTTP {}", response.status().as_u16())));
    }
    let body = read_capped(&mut response, MAX_DOCUMENT_BYTES)
        .await
        .map_err(failed)?;
    serde_json::from_slice(&body).map_err(|e| failed(format!("not the expected JSON: {e}")))
}

/// A body of at most `max` bytes.
pub(super) async fn read_capped(
    response: &mut reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = tokio::time::timeout(REQUEST_TIMEOUT, response.chunk())
        .await
        .map_err(|_| "the body did not arrive in time".to_owned())?
        .map_err(|e| format!("the body broke off: {e}"))?
    {
        if body.len() + chunk.len() > max {
            return Err(format!("the answer is larger than {max} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(super) fn parse_url(text: &str) -> Result<Url, OAuthError> {
    Url::parse(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .ok_or_else(|| OAuthError::Metadata {
            url: text.to_owned(),
            reason: "not an absolute http(s) URL".to_owned(),
        })
}

/// Two resource identifiers for one server: equal but for a trailing slash and the
/// case of scheme and host (MCP: accept those for robustness).
fn same_resource(a: &str, b: &str) -> bool {
    let normal = |text: &str| {
        Url::parse(text).ok().map(|url| {
            let mut text = url.to_string();
            while text.ends_with('/') {
                text.pop();
            }
            text
        })
    };
    normal(a).is_some_and(|a| Some(a) == normal(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(list: Vec<Url>) -> Vec<String> {
        list.into_iter().map(|u| u.to_string()).collect()
    }

    #[test]
    fn resource_metadata_is_looked_for_under_the_path_then_at_the_root() {
        let server = Url::parse("https://mcp.example.com/public/mcp").unwrap();
        assert_eq!(
            urls(resource_metadata_urls(&server)),
            [
                "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
    }

    #[test]
    fn server_metadata_follows_the_mcp_order() {
        let with_path = Url::parse("https://auth.example.com/tenant1").unwrap();
        assert_eq!(
            urls(server_metadata_urls(&with_path)),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        let root = Url::parse("https://auth.example.com").unwrap();
        assert_eq!(
            urls(server_metadata_urls(&root)),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
    }

    fn document(issuer: &str, methods: Option<Vec<&str>>) -> ServerDocument {
        ServerDocument {
            issuer: issuer.to_owned(),
            authorization_endpoint: Some("https://as.example/auth".to_owned()),
            token_endpoint: Some("https://as.example/token".to_owned()),
            registration_endpoint: None,
            code_challenge_methods_supported: methods
                .map(|m| m.into_iter().map(str::to_owned).collect()),
            client_id_metadata_document_supported: false,
            authorization_response_iss_parameter_supported: true,
        }
    }

    #[test]
    fn a_server_without_s256_or_with_another_issuer_is_refused() {
        let url = Url::parse("https://as.example/.well-known/oauth-authorization-server").unwrap();
        let ok = validate_server(
            "https://as.example",
            &url,
            document("https://as.example", Some(vec!["S256"])),
        )
        .expect("a suitable server");
        assert_eq!(ok.token_endpoint, "https://as.example/token");
        assert!(ok.iss_parameter_supported);
        assert!(matches!(
            validate_server(
                "https://as.example",
                &url,
                document("https://as.example", Some(vec!["plain"]))
            ),
            Err(OAuthError::Unsuitable { .. })
        ));
        assert!(matches!(
            validate_server(
                "https://as.example",
                &url,
                document("https://as.example", None)
            ),
            Err(OAuthError::Unsuitable { .. })
        ));
        // A trailing slash is another issuer: exact comparison.
        assert!(matches!(
            validate_server(
                "https://as.example",
                &url,
                document("https://as.example/", Some(vec!["S256"]))
            ),
            Err(OAuthError::Metadata { .. })
        ));
    }

    #[test]
    fn a_resource_is_the_same_but_for_a_trailing_slash_and_case() {
        assert!(same_resource(
            "https://MCP.example.com/mcp/",
            "https://mcp.example.com/mcp"
        ));
        assert!(!same_resource(
            "https://mcp.example.com/other",
            "https://mcp.example.com/mcp"
        ));
    }
}
