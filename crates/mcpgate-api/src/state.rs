//! What every handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use mcpgate_auth::{CredentialsKey, GrantSigningKey};
use mcpgate_store::{PgPool, Redis};
use mcpgate_upstream::AddressPolicy;

use crate::client_address::TrustedProxies;
use crate::passwords::PasswordHashing;

/// The API's shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: PgPool,
    pub redis: Redis,
    pub keys: Arc<Keys>,
    pub urls: Arc<PublicUrls>,
    pub upstreams: AddressPolicy,
    /// Bounds argon2 work: sign-ups and logins beyond it get 503.
    pub passwords: PasswordHashing,
    /// Whose `X-Forwarded-For` names the client (the login rate limit's key).
    pub trusted_proxies: Arc<TrustedProxies>,
    /// The OAuth authorization server's clients and token lifetimes.
    pub(crate) oauth: Arc<crate::oauth_server::OAuthServer>,
    /// Mails invitations and password-reset links; `None` without an SMTP server.
    pub(crate) mailer: Option<crate::mail::Mailer>,
    /// The SSO providers' signing keys, cached per JWKS URL.
    pub(crate) sso_keys: Arc<crate::sso::jwks::JwksCache>,
}

/// The control plane's secrets.
#[derive(Debug)]
pub struct Keys {
    /// Signs grant tokens.
    pub grant_signing: GrantSigningKey,
    /// Seals upstream credentials at rest (a key derived from `MCPGATE_SECRET_KEY`).
    pub credentials: CredentialsKey,
}

/// Where users reach the services.
#[derive(Debug, Clone)]
pub struct PublicUrls {
    /// The proxy's base URL, e.g. `https://proxy.example.com`.
    pub proxy: String,
    /// The API and dashboard's base URL.
    pub api: String,
}

impl PublicUrls {
    /// The proxy URL of a server: what MCP clients point at.
    pub fn proxy_url(&self, server: mcpgate_store::ServerId) -> String {
        format!("{}/mcp/{server}/", self.proxy)
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}
