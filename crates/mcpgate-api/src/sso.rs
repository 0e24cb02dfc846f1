//! Single sign-on with OpenID Connect: a tenant names its identity provider (issuer,
//! client id and secret, the email domain it signs in); a person signs in there with
//! the authorization-code flow (PKCE S256, `state` and `nonce`) and gets a normal
//! dashboard session.
//!
//! - [`settings`]: what an admin may set, validated once for REST and the dashboard.
//! - [`provider`]: discovery, the token endpoint and the JWKS, through the SSRF-guarded
//!   client used for upstreams (so a loopback issuer works only when private upstreams
//!   are allowed).
//! - [`jwks`]: the providers' signing keys, cached per JWKS URL (honouring
//!   `Cache-Control`), refetched once when a token names a key they lack.
//! - [`flow`]: starting a sign-in and finishing it at the callback; every refusal is a
//!   [`SsoRefusal`] the person sees on an error page.

pub(crate) mod flow;
pub(crate) mod jwks;
pub(crate) mod provider;
pub(crate) mod settings;

use axum::http::StatusCode;

/// Why a sign-in was refused, worded for the person signing in.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SsoRefusal {
    #[error("No single sign-on is set up for {0}. Log in with your password, or ask your admin.")]
    NotConfigured(String),
    #[error("The identity provider cannot be used: {0}")]
    Provider(String),
    #[error("The identity provider refused the sign-in: {0}")]
    ProviderRefused(String),
    #[error(
        "This sign-in was already used, has expired, or did not start in this browser. \
         Start again from the login page."
    )]
    UnknownState,
    #[error("Single sign-on refused the ID token: {0}")]
    IdToken(#[from] mcpgate_auth::IdTokenError),
    #[error("{0} is not a member of this tenant. Ask an admin of the tenant for an invitation.")]
    NotAMember(String),
}

impl SsoRefusal {
    /// The status the error page carries.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            SsoRefusal::NotConfigured(_) => StatusCode::NOT_FOUND,
            SsoRefusal::Provider(_) => StatusCode::BAD_GATEWAY,
            SsoRefusal::UnknownState => StatusCode::BAD_REQUEST,
            SsoRefusal::ProviderRefused(_) | SsoRefusal::IdToken(_) | SsoRefusal::NotAMember(_) => {
                StatusCode::FORBIDDEN
            }
        }
    }
}
