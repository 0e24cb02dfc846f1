//! The credentials of mcpgate. Pure: no network, no database, no async.
//!
//! - **Grant tokens**: the API signs EdDSA JWTs with a [`GrantSigningKey`]; proxies verify them
//!   on every request with the matching [`GrantVerifyKey`] and cannot mint their own.
//! - **Secret box**: [`SecretKey`] seals values (AES-256-GCM), bound to their row by
//!   associated data, under one key per purpose derived from `MCPGATE_SECRET_KEY`
//!   ([`SecretKey::derive`], [`KeyPurpose`]); [`CredentialsKey`] is how upstream
//!   credentials are sealed and opened, by the API and the proxy alike.
//! - **API keys**: [`ApiKey`] generates and parses `mcpg_<prefix>_<secret>` keys, stored as the
//!   prefix and a SHA-256 hash.
//! - **Passwords**: argon2id with [`hash_password`] and [`verify_password`].
//! - **Random tokens**: [`random_token`] for session ids and CSRF tokens.
//!
//! ```
//! use chrono::{TimeDelta, Utc};
//! use mcpgate_auth::{GrantClaims, GrantSigningKey, ServerScope};
//! use uuid::Uuid;
//!
//! let signing_key = GrantSigningKey::generate(); // the API's
//! let verify_key = signing_key.verify_key(); // every proxy's
//!
//! let server = Uuid::now_v7();
//! let now = Utc::now();
//! let claims = GrantClaims::new(Uuid::now_v7(), Uuid::now_v7(),
//!     ServerScope::Only(vec![server]), 1, now, Some(now + TimeDelta::days(30)));
//! let token = signing_key.issue(&claims);
//!
//! let verified = verify_key.verify(&token, now).unwrap();
//! assert!(verified.servers.allows(server));
//! assert_eq!(verified.version, 1);
//! ```

mod api_key;
mod claims;
mod encoding;
mod error;
mod id_token;
mod password;
mod random;
mod secret_box;
mod signing;
mod verify;

pub use api_key::{constant_time_eq, ApiKey, ParsedKey, API_KEY_PREFIX_LEN};
pub use claims::{GrantClaims, ServerScope, AUDIENCE, ISSUER};
pub use error::{AuthError, TokenError};
pub use id_token::{verify_id_token, IdTokenError, IdTokenExpectations, VerifiedIdentity};
/// The JWKS type [`verify_id_token`] reads.
pub use jsonwebtoken::jwk::JwkSet;
pub use password::{
    hash_password, validate_password, verify_password, MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS,
};
pub use random::random_token;
pub use secret_box::{
    CredentialsKey, KeyPurpose, OAuthTokens, SecretKey, ServerSecret, TokensOwner,
};
pub use signing::GrantSigningKey;
pub use verify::{GrantVerifyKey, GRANT_TOKEN_LEEWAY_SECONDS};
