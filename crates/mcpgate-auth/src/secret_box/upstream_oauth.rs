//! The upstream OAuth secrets of a server, sealed under the credentials key like its
//! headers: the API seals them, the proxy opens (and, refreshing, seals) them. Each kind
//! is bound to its own row, so a value copied to another kind, server or tenant does
//! not open.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::purpose::CredentialsKey;
use crate::error::AuthError;

/// A server secret other than its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerSecret {
    /// The access and refresh tokens ([`OAuthTokens`]).
    OAuthTokens,
    /// The client secret mcpgate holds at the authorization server.
    OAuthClientSecret,
    /// The PKCE verifier of an authorization request in flight.
    OAuthCodeVerifier,
}

impl ServerSecret {
    const fn label(self) -> &'static str {
        match self {
            ServerSecret::OAuthTokens => "upstream-oauth-tokens",
            ServerSecret::OAuthClientSecret => "upstream-oauth-client-secret",
            ServerSecret::OAuthCodeVerifier => "upstream-oauth-code-verifier",
        }
    }
}

/// A server's upstream tokens, as sealed. `Debug` shows neither.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("refresh_token", &self.refresh_token.is_some())
            .finish_non_exhaustive()
    }
}

impl CredentialsKey {
    /// Seals `plaintext` as the server's `kind` of secret.
    pub fn seal_server_secret(
        &self,
        kind: ServerSecret,
        tenant: Uuid,
        server: Uuid,
        plaintext: &[u8],
    ) -> Vec<u8> {
        self.derived
            .seal(plaintext, &associated_data(kind, tenant, server))
    }

    /// Opens what [`CredentialsKey::seal_server_secret`] sealed for this kind and row.
    pub fn open_server_secret(
        &self,
        kind: ServerSecret,
        tenant: Uuid,
        server: Uuid,
        sealed: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        self.derived
            .open(sealed, &associated_data(kind, tenant, server))
    }

    /// Seals a server's tokens.
    pub fn seal_oauth_tokens(&self, tenant: Uuid, server: Uuid, tokens: &OAuthTokens) -> Vec<u8> {
        let plaintext = serde_json::to_vec(tokens).expect("two strings serialise");
        self.seal_server_secret(ServerSecret::OAuthTokens, tenant, server, &plaintext)
    }

    /// Opens a server's tokens.
    pub fn open_oauth_tokens(
        &self,
        tenant: Uuid,
        server: Uuid,
        sealed: &[u8],
    ) -> Result<OAuthTokens, AuthError> {
        let plaintext =
            self.open_server_secret(ServerSecret::OAuthTokens, tenant, server, sealed)?;
        serde_json::from_slice(&plaintext).map_err(|_| AuthError::SealedMalformed {
            reason: "the opened tokens are not the expected JSON",
        })
    }
}

/// Whose upstream tokens: a server's connection for the tenant (`grant: None`), or one
/// grant's own connection to a per-grant server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokensOwner {
    pub tenant: Uuid,
    pub server: Uuid,
    pub grant: Option<Uuid>,
}

impl CredentialsKey {
    /// Seals `owner`'s tokens, bound to its row: a grant's tokens do not open as another
    /// grant's, nor as the tenant's.
    pub fn seal_owned_oauth_tokens(&self, owner: TokensOwner, tokens: &OAuthTokens) -> Vec<u8> {
        let Some(grant) = owner.grant else {
            return self.seal_oauth_tokens(owner.tenant, owner.server, tokens);
        };
        let plaintext = serde_json::to_vec(tokens).expect("two strings serialise");
        self.derived
            .seal(&plaintext, &grant_associated_data(owner, grant))
    }

    /// Opens what [`CredentialsKey::seal_owned_oauth_tokens`] sealed for `owner`.
    pub fn open_owned_oauth_tokens(
        &self,
        owner: TokensOwner,
        sealed: &[u8],
    ) -> Result<OAuthTokens, AuthError> {
        let Some(grant) = owner.grant else {
            return self.open_oauth_tokens(owner.tenant, owner.server, sealed);
        };
        let plaintext = self
            .derived
            .open(sealed, &grant_associated_data(owner, grant))?;
        serde_json::from_slice(&plaintext).map_err(|_| AuthError::SealedMalformed {
            reason: "the opened tokens are not the expected JSON",
        })
    }
}

/// `upstream-oauth-grant-tokens:<tenant>:<server>:<grant>`.
fn grant_associated_data(owner: TokensOwner, grant: Uuid) -> Vec<u8> {
    format!(
        "upstream-oauth-grant-tokens:{}:{}:{grant}",
        owner.tenant, owner.server
    )
    .into_bytes()
}

/// `<kind>:<tenant>:<server>`.
fn associated_data(kind: ServerSecret, tenant: Uuid, server: Uuid) -> Vec<u8> {
    format!("{}:{tenant}:{server}", kind.label()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn tokens_open_only_for_their_own_kind_and_row() {
        let key = CredentialsKey::new(&SecretKey::generate());
        let (tenant, server) = (Uuid::now_v7(), Uuid::now_v7());
        let tokens = OAuthTokens {
            access_token: "at".into(),
            refresh_token: Some("rt".into()),
        };
        let sealed = key.seal_oauth_tokens(tenant, server, &tokens);
        assert_eq!(
            key.open_oauth_tokens(tenant, server, &sealed).unwrap(),
            tokens
        );
        assert!(key
            .open_oauth_tokens(tenant, Uuid::now_v7(), &sealed)
            .is_err());
        assert!(key
            .open_server_secret(ServerSecret::OAuthClientSecret, tenant, server, &sealed)
            .is_err());
        assert!(key.open_server_headers(tenant, server, &sealed).is_err());
        assert!(!format!("{tokens:?}").contains("rt\""));
    }

    #[test]
    fn a_grants_tokens_open_only_for_that_grant_of_that_server() {
        let key = CredentialsKey::new(&SecretKey::generate());
        let (tenant, server) = (Uuid::now_v7(), Uuid::now_v7());
        let owner = |grant| TokensOwner {
            tenant,
            server,
            grant,
        };
        let tokens = OAuthTokens {
            access_token: "at".into(),
            refresh_token: None,
        };
        let first = Uuid::now_v7();
        let sealed = key.seal_owned_oauth_tokens(owner(Some(first)), &tokens);
        assert_eq!(
            key.open_owned_oauth_tokens(owner(Some(first)), &sealed)
                .unwrap(),
            tokens
        );
        assert!(key
            .open_owned_oauth_tokens(owner(Some(Uuid::now_v7())), &sealed)
            .is_err());
        assert!(key.open_owned_oauth_tokens(owner(None), &sealed).is_err());
        assert!(key.open_oauth_tokens(tenant, server, &sealed).is_err());
        let tenants = key.seal_owned_oauth_tokens(owner(None), &tokens);
        assert_eq!(
            key.open_oauth_tokens(tenant, server, &tenants).unwrap(),
            tokens
        );
        assert!(key
            .open_owned_oauth_tokens(owner(Some(first)), &tenants)
            .is_err());
    }
}
