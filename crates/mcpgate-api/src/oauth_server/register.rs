//! `/oauth/register`: Dynamic Client Registration (RFC 7591) for the clients that still
//! use it (Client ID Metadata Documents are preferred). Public clients only: the answer
//! says `token_endpoint_auth_method: none` whatever was asked (§3.2.1 lets the server
//! choose). A tenant that turns registrations off refuses them at its consent step.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{TimeDelta, Utc};
use mcpgate_store::oauth_server::{self, RegisteredClient};
use serde::Deserialize;
use serde_json::json;

use super::clients::REGISTERED_PREFIX;
use super::error::OAuthError;
use crate::state::AppState;

const MAX_REDIRECT_URIS: usize = 10;
const MAX_URI_LENGTH: usize = 2_000;

#[derive(Debug, Deserialize)]
struct Registration {
    redirect_uris: Vec<String>,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(default)]
    client_uri: Option<String>,
}

pub(super) async fn register(State(state): State<AppState>, body: Bytes) -> Response {
    match registered(&state, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn registered(state: &AppState, body: &[u8]) -> Result<Response, OAuthError> {
    let registration: Registration = serde_json::from_slice(body).map_err(|error| {
        OAuthError::InvalidClientMetadata(format!("not client metadata: {error}"))
    })?;
    if registration.redirect_uris.is_empty() || registration.redirect_uris.len() > MAX_REDIRECT_URIS
    {
        return Err(OAuthError::InvalidRedirectUri(format!(
            "list 1 to {MAX_REDIRECT_URIS} redirect_uris"
        )));
    }
    for uri in &registration.redirect_uris {
        check_redirect_uri(uri)
            .map_err(|reason| OAuthError::InvalidRedirectUri(format!("{uri:?}: {reason}")))?;
    }
    let name = registration
        .client_name
        .as_deref()
        .map(|name| {
            name.trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(100)
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "Unnamed client".to_owned());
    let client = RegisteredClient {
        client_id: format!("{REGISTERED_PREFIX}{}", uuid::Uuid::new_v4().simple()),
        client_name: name,
        redirect_uris: registration.redirect_uris,
        client_uri: registration
            .client_uri
            .filter(|uri| uri.len() <= MAX_URI_LENGTH),
    };
    oauth_server::register_client(&state.db, &client).await?;
    // Anyone may register: what nobody connected within a day goes.
    if let Err(error) =
        oauth_server::sweep_unused_clients(&state.db, Utc::now() - TimeDelta::days(1)).await
    {
        tracing::warn!(%error, "could not sweep unused OAuth client registrations");
    }
    let mut body = json!({
        "client_id": client.client_id,
        "client_id_issued_at": Utc::now().timestamp(),
        "client_name": client.client_name,
        "redirect_uris": client.redirect_uris,
        "client_uri": client.client_uri,
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    });
    // RFC 7591 §3.2.1: metadata the client did not send is left out, not null.
    if let Some(fields) = body.as_object_mut() {
        fields.retain(|_, value| !value.is_null());
    }
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

/// A redirect URI a public client may register: absolute, no fragment; https, or http
/// on loopback (RFC 8252 §7.3), or a native app's private-use scheme (§7.1).
fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri.len() > MAX_URI_LENGTH {
        return Err("too long");
    }
    let url = url::Url::parse(uri).map_err(|_| "not an absolute URL")?;
    if url.fragment().is_some() {
        return Err("a redirect URI may not have a fragment");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => Ok(()),
        "http" => Err("http is only for loopback redirect URIs; use https"),
        "javascript" | "data" | "file" | "vbscript" => Err("not a redirect scheme"),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::check_redirect_uri;

    #[test]
    fn redirect_uris_are_https_loopback_http_or_a_private_scheme() {
        assert!(check_redirect_uri("https://app.example.com/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:8123/callback").is_ok());
        assert!(check_redirect_uri("http://localhost/cb").is_ok());
        assert!(check_redirect_uri("com.example.app:/oauth").is_ok());
        assert!(check_redirect_uri("http://app.example.com/cb").is_err());
        assert!(check_redirect_uri("https://app.example.com/cb#x").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
        assert!(check_redirect_uri("/relative").is_err());
    }
}
