//! Talking to a tenant's OpenID provider: discovery (OpenID Connect Discovery 1.0),
//! the token endpoint (authorization code + PKCE, `client_secret_basic`) and the JWKS.
//! Every request goes through the upstream client ([`mcpgate_upstream::upstream_client`]):
//! the address policy at resolve and connect time, no redirects, no proxies.

use std::time::Duration;

use mcpgate_auth::JwkSet;
use mcpgate_upstream::AddressPolicy;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::SsoRefusal;

const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// What mcpgate's requests to the provider carry as their hop header.
const HOP: &str = "sso";

/// The endpoints of a provider, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Provider {
    pub(crate) issuer: String,
    pub(crate) authorization_endpoint: String,
    pub(crate) token_endpoint: String,
    pub(crate) jwks_uri: String,
    #[serde(default)]
    pub(crate) code_challenge_methods_supported: Option<Vec<String>>,
}

/// The HTTP client for providers, under the upstreams' address policy.
pub(crate) fn client(policy: &AddressPolicy) -> Result<reqwest::Client, SsoRefusal> {
    mcpgate_upstream::upstream_client(policy.clone(), HOP)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|error| SsoRefusal::Provider(format!("no HTTP client: {error}")))
}

/// The issuer as an URL: https, or http for a loopback host (a provider in a test or
/// on the same machine, which the address policy allows only with private upstreams).
pub(crate) fn issuer_url(issuer: &str) -> Result<Url, String> {
    let url = Url::parse(issuer).map_err(|_| "the issuer is not an absolute URL".to_owned())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => return Err("the issuer names no host".to_owned()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err("the issuer must be an https URL".to_owned()),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the issuer has no query or fragment".to_owned());
    }
    Ok(url)
}

/// Reads `<issuer>/.well-known/openid-configuration` and checks it is the configured
/// issuer's (Discovery §4.3: its `issuer` is exactly the one asked for) and offers S256.
pub(crate) async fn discover(
    client: &reqwest::Client,
    issuer: &str,
) -> Result<Provider, SsoRefusal> {
    issuer_url(issuer).map_err(SsoRefusal::Provider)?;
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let provider: Provider = get_json(client, &url).await?;
    if provider.issuer != issuer {
        return Err(SsoRefusal::Provider(format!(
            "its discovery document names the issuer {:?}, not {issuer:?}",
            provider.issuer
        )));
    }
    if let Some(methods) = &provider.code_challenge_methods_supported {
        if !methods.iter().any(|method| method == "S256") {
            return Err(SsoRefusal::Provider(
                "it does not support PKCE with S256".to_owned(),
            ));
        }
    }
    for endpoint in [
        &provider.authorization_endpoint,
        &provider.token_endpoint,
        &provider.jwks_uri,
    ] {
        let parsed = Url::parse(endpoint).ok();
        if !parsed.is_some_and(|url| matches!(url.scheme(), "http" | "https")) {
            return Err(SsoRefusal::Provider(format!(
                "its discovery document names {endpoint:?}, not an http(s) URL"
            )));
        }
    }
    Ok(provider)
}

/// The provider's signing keys, with the answer's `Cache-Control` (see
/// [`super::jwks`], which caches them).
pub(crate) async fn keys(
    client: &reqwest::Client,
    provider: &Provider,
) -> Result<(JwkSet, Option<String>), SsoRefusal> {
    get_json_with_cache_control(client, &provider.jwks_uri).await
}

/// What mcpgate sends the browser to.
#[derive(Debug)]
pub(crate) struct AuthorizationRequest<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) state: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) code_challenge: &'a str,
    pub(crate) login_hint: Option<&'a str>,
}

/// The authorization URL: `response_type=code`, `scope=openid email`, PKCE S256.
pub(crate) fn authorization_url(
    provider: &Provider,
    request: &AuthorizationRequest<'_>,
) -> Result<String, SsoRefusal> {
    let mut url = Url::parse(&provider.authorization_endpoint)
        .map_err(|_| SsoRefusal::Provider("its authorization endpoint is not an URL".into()))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("scope", "openid email")
            .append_pair("client_id", request.client_id)
            .append_pair("redirect_uri", request.redirect_uri)
            .append_pair("state", request.state)
            .append_pair("nonce", request.nonce)
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = request.login_hint {
            query.append_pair("login_hint", hint);
        }
    }
    Ok(url.into())
}

/// The token endpoint's answer; only the ID token is used.
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// Trades the code (with its PKCE verifier) for an ID token.
pub(crate) async fn exchange_code(
    client: &reqwest::Client,
    provider: &Provider,
    client_id: &str,
    client_secret: &str,
    code: &str,
    code_verifier: &str,
    redirect_uri: &str,
) -> Result<String, SsoRefusal> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", code_verifier),
        ("redirect_uri", redirect_uri),
    ];
    // RFC 6749 §2.3.1: the id and secret are form-encoded inside Basic.
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let response = client
        .post(&provider.token_endpoint)
        .header(reqwest::header::ACCEPT, "application/json")
        .basic_auth(encode(client_id), Some(encode(client_secret)))
        .form(&form)
        .send()
        .await
        .map_err(|error| {
            SsoRefusal::Provider(format!(
                "its token endpoint: {}",
                mcpgate_upstream::error_chain(&error)
            ))
        })?;
    let status = response.status();
    let body = read_capped(response).await?;
    if !status.is_success() {
        return Err(match serde_json::from_slice::<ErrorAnswer>(&body) {
            Ok(answer) => SsoRefusal::ProviderRefused(match answer.error_description {
                Some(description) => format!("{} ({description})", answer.error),
                None => answer.error,
            }),
            Err(_) => SsoRefusal::Provider(format!(
                "its token endpoint answered HTTP {}",
                status.as_u16()
            )),
        });
    }
    serde_json::from_slice::<TokenAnswer>(&body)
        .ok()
        .and_then(|answer| answer.id_token)
        .ok_or_else(|| SsoRefusal::Provider("its token answer has no id_token".to_owned()))
}

async fn get_json<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> Result<T, SsoRefusal> {
    get_json_with_cache_control(client, url)
        .await
        .map(|(value, _)| value)
}

async fn get_json_with_cache_control<T: DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> Result<(T, Option<String>), SsoRefusal> {
    let response = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|error| {
            SsoRefusal::Provider(format!("{url}: {}", mcpgate_upstream::error_chain(&error)))
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(SsoRefusal::Provider(format!(
            "{url} answered HTTP {}",
            status.as_u16()
        )));
    }
    let cache_control = response
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = read_capped(response).await?;
    let value = serde_json::from_slice(&body).map_err(|error| {
        SsoRefusal::Provider(format!("{url} is not the expected JSON: {error}"))
    })?;
    Ok((value, cache_control))
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, SsoRefusal> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| {
        SsoRefusal::Provider(format!(
            "reading its answer: {}",
            mcpgate_upstream::error_chain(&error)
        ))
    })? {
        if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
            return Err(SsoRefusal::Provider(format!(
                "its answer is larger than {MAX_DOCUMENT_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
