//! The authorization request, the token endpoint (code and refresh grants) and Dynamic
//! Client Registration (RFC 7591).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::metadata::{parse_url, read_capped};
use super::OAuthError;
use crate::error_chain;

const MAX_ANSWER_BYTES: usize = 256 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How mcpgate identifies itself to an authorization server.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// The client id (a Client ID Metadata Document's URL, a registered id, or one the
    /// tenant entered).
    pub client_id: String,
    /// Present for a confidential client (sent with HTTP Basic, RFC 6749 §2.3.1).
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| ".."))
            .finish()
    }
}

/// What the browser is sent to.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest<'a> {
    pub authorization_endpoint: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub code_challenge: &'a str,
    /// RFC 8707: the MCP server the token is for.
    pub resource: &'a str,
    pub scope: Option<&'a str>,
}

/// The authorization URL: `response_type=code`, PKCE S256, `state` and `resource`.
pub fn authorization_url(request: &AuthorizationRequest<'_>) -> Result<String, OAuthError> {
    let mut url = parse_url(request.authorization_endpoint)?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", request.client_id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("state", request.state)
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("resource", request.resource);
        if let Some(scope) = request.scope {
            query.append_pair("scope", scope);
        }
    }
    Ok(url.to_string())
}

/// A token endpoint's answer.
#[derive(Clone, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    /// Seconds the access token is valid for, if the server says.
    #[serde(default)]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.is_some())
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Trades an authorization code (with its PKCE verifier) for tokens.
pub async fn exchange_code(
    client: &reqwest::Client,
    token_endpoint: &str,
    credentials: &ClientCredentials,
    code: &str,
    code_verifier: &str,
    redirect_uri: &str,
    resource: &str,
) -> Result<TokenSet, OAuthError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", code_verifier),
        ("redirect_uri", redirect_uri),
        ("resource", resource),
    ];
    token_request(client, token_endpoint, credentials, &form).await
}

/// Trades a refresh token for new tokens (the answer may rotate the refresh token; a
/// missing one keeps the old, RFC 6749 §6).
pub async fn refresh_tokens(
    client: &reqwest::Client,
    token_endpoint: &str,
    credentials: &ClientCredentials,
    refresh_token: &str,
    resource: &str,
) -> Result<TokenSet, OAuthError> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("resource", resource),
    ];
    token_request(client, token_endpoint, credentials, &form).await
}

async fn token_request(
    client: &reqwest::Client,
    token_endpoint: &str,
    credentials: &ClientCredentials,
    form: &[(&str, &str)],
) -> Result<TokenSet, OAuthError> {
    let url = parse_url(token_endpoint)?;
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    let mut request = client
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json");
    match &credentials.client_secret {
        Some(secret) => {
            request = request.basic_auth(
                form_encode(&credentials.client_id),
                Some(form_encode(secret)),
            );
        }
        None => fields.push(("client_id", &credentials.client_id)),
    }
    let mut response = send(request.form(&fields)).await?;
    let status = response.status();
    let body = read_capped(&mut response, MAX_ANSWER_BYTES)
        .await
        .map_err(OAuthError::Unavailable)?;
    if status.is_success() {
        let tokens: TokenSet = serde_json::from_slice(&body).map_err(|e| {
            OAuthError::Unavailable(format!("the token answer is not the expected JSON: {e}"))
        })?;
        if tokens
            .token_type
            .as_deref()
            .is_some_and(|kind| !kind.eq_ignore_ascii_case("bearer"))
        {
            return Err(OAuthError::Unavailable(format!(
                "the token type {:?} is not Bearer",
                tokens.token_type
            )));
        }
        return Ok(tokens);
    }
    Err(oauth_error(status, &body))
}

/// RFC 6749 §5.2: a 400/401 with `{"error": ...}` is a refusal; anything else (5xx, no
/// JSON) means the server is unavailable.
fn oauth_error(status: reqwest::StatusCode, body: &[u8]) -> OAuthError {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(error) if status.is_client_error() => OAuthError::Refused {
            error: error.error,
            description: error.error_description,
        },
        _ => OAuthError::Unavailable(format!("HTTP {}", status.as_u16())),
    }
}

/// Registers mcpgate as a client (RFC 7591), for authorization servers that offer it.
pub async fn register_client(
    client: &reqwest::Client,
    registration_endpoint: &str,
    client_name: &str,
    redirect_uri: &str,
    scope: Option<&str>,
) -> Result<ClientCredentials, OAuthError> {
    #[derive(Deserialize)]
    struct Registered {
        client_id: String,
        client_secret: Option<String>,
    }
    let url = parse_url(registration_endpoint)?;
    let mut metadata = json!({
        "client_name": client_name,
        "redirect_uris": [redirect_uri],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        // A server-side web application holding its secret (MCP: say application_type).
        "application_type": "web",
        "token_endpoint_auth_method": "client_secret_basic",
    });
    if let Some(scope) = scope {
        metadata["scope"] = json!(scope);
    }
    let mut response = send(client.post(url).json(&metadata)).await?;
    let status = response.status();
    let body = read_capped(&mut response, MAX_ANSWER_BYTES)
        .await
        .map_err(OAuthError::Unavailable)?;
    if !status.is_success() {
        return Err(oauth_error(status, &body));
    }
    let registered: Registered = serde_json::from_slice(&body).map_err(|e| {
        OAuthError::Unavailable(format!(
            "the registration answer is not the expected JSON: {e}"
        ))
    })?;
    Ok(ClientCredentials {
        client_id: registered.client_id,
        client_secret: registered.client_secret,
    })
}

async fn send(request: reqwest::RequestBuilder) -> Result<reqwest::Response, OAuthError> {
    tokio::time::timeout(REQUEST_TIMEOUT, request.send())
        .await
        .map_err(|_| OAuthError::Unavailable(format!("no answer within {REQUEST_TIMEOUT:?}")))?
        .map_err(|e| OAuthError::Unavailable(error_chain(&e)))
}

/// RFC 6749 §2.3.1: client id and secret are form-encoded before HTTP Basic.
fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Url;

    #[test]
    fn the_authorization_url_carries_pkce_state_and_resource() {
        let url = authorization_url(&AuthorizationRequest {
            authorization_endpoint: "https://as.example/auth?tenant=1",
            client_id: "https://gate.example/client.json",
            redirect_uri: "https://gate.example/callback",
            state: "s t",
            code_challenge: "abc",
            resource: "https://mcp.example/mcp",
            scope: Some("files:read"),
        })
        .unwrap();
        let parsed = Url::parse(&url).unwrap();
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("tenant"), Some("1"), "the endpoint's own query stays");
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("state"), Some("s t"));
        assert_eq!(get("resource"), Some("https://mcp.example/mcp"));
        assert_eq!(get("scope"), Some("files:read"));
    }

    #[test]
    fn an_oauth_error_is_a_refusal_and_a_5xx_is_unavailability() {
        let refused = oauth_error(
            reqwest::StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
        );
        assert!(refused.is_refusal());
        assert!(refused.to_string().contains("invalid_grant"));
        assert!(!oauth_error(reqwest::StatusCode::BAD_GATEWAY, b"{\"error\":\"x\"}").is_refusal());
        assert!(!oauth_error(reqwest::StatusCode::BAD_REQUEST, b"<html>").is_refusal());
    }

    #[test]
    fn debug_never_shows_a_token_or_secret() {
        let tokens = TokenSet {
            access_token: "at-secret".into(),
            token_type: Some("Bearer".into()),
            expires_in: Some(60),
            refresh_token: Some("rt-secret".into()),
            scope: None,
        };
        let credentials = ClientCredentials {
            client_id: "id".into(),
            client_secret: Some("cs-secret".into()),
        };
        let shown = format!("{tokens:?} {credentials:?}");
        assert!(!shown.contains("secret\""), "{shown}");
        assert!(
            !shown.contains("at-secret")
                && !shown.contains("rt-secret")
                && !shown.contains("cs-secret")
        );
    }
}
