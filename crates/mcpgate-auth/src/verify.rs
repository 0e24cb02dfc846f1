//! The grant verify key: the public half of the signing key, held by every proxy, which
//! checks a grant token on every proxied request.

use std::fmt;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::claims::{GrantClaims, IncomingClaims, AUDIENCE, ISSUER};
use crate::encoding::{decode_key, encode_key};
use crate::error::{AuthError, TokenError};

/// How long after `exp` a token is still accepted, in seconds: absorbs clock skew between
/// the API that issued the token and the proxy that checks it. Thirty seconds is harmless
/// because the proxy also checks the grant itself (revoked, version) on every request.
pub const GRANT_TOKEN_LEEWAY_SECONDS: i64 = 30;

/// The public key that verifies grant tokens (`MCPGATE_GRANT_VERIFY_KEY`).
///
/// Built once at start-up and shared: it holds the decoded key and the validation rules, so
/// [`GrantVerifyKey::verify`] does no set-up work per request.
#[derive(Clone)]
pub struct GrantVerifyKey {
    public: [u8; 32],
    decoding: DecodingKey,
    validation: Validation,
}

impl GrantVerifyKey {
    /// Reads `MCPGATE_GRANT_VERIFY_KEY`: base64 of the 32 raw bytes of an Ed25519 public key.
    pub fn from_base64(text: &str) -> Result<Self, AuthError> {
        let bytes = decode_key(text).map_err(|reason| AuthError::InvalidVerifyKey { reason })?;
        let public: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            AuthError::InvalidVerifyKey {
                reason: if bytes.len() > 32 {
                    "it is longer than 32 bytes: is it the signing key? Proxies need only the public half"
                } else {
                    "it is shorter than 32 bytes"
                },
            }
        })?;
        Ok(Self::from_public_key(public))
    }

    pub(crate) fn from_public_key(public: [u8; 32]) -> Self {
        // The algorithm list is explicit and only EdDSA: a token whose header says `none`,
        // HS256 (signed with these public bytes as an HMAC secret) or RS256 is refused before
        // any signature check.
        let mut validation = Validation::new(Algorithm::EdDSA);
        // Grants without expiry have no `exp`, and `exp` is checked against the caller's `now`
        // in `verify` (jsonwebtoken would read the system clock), so jsonwebtoken must neither
        // require nor check it.
        validation.required_spec_claims = ["iss", "aud", "sub"].map(String::from).into();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Self {
            public,
            decoding: DecodingKey::from_ed_der(&public),
            validation,
        }
    }

    /// The key as `MCPGATE_GRANT_VERIFY_KEY` holds it: base64 of its 32 bytes.
    pub fn to_base64(&self) -> String {
        encode_key(&self.public)
    }

    /// Checks a grant token at time `now` and returns its claims.
    ///
    /// Checks, in order: the shape, the algorithm (EdDSA only), the signature, `iss`, `aud`,
    /// then `exp` if present, with [`GRANT_TOKEN_LEEWAY_SECONDS`] of leeway. The caller still
    /// has to compare `tenant_id`, `version` and `servers` with the grant it knows.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<GrantClaims, TokenError> {
        let incoming =
            jsonwebtoken::decode::<IncomingClaims>(token, &self.decoding, &self.validation)
                .map_err(|error| TokenError::from_jwt(&error))?
                .claims;
        if let Some(exp) = incoming.exp {
            // RFC 7519 §4.1.4: not accepted "on or after" the expiry.
            if now.timestamp() >= exp.saturating_add(GRANT_TOKEN_LEEWAY_SECONDS) {
                return Err(TokenError::Expired);
            }
        }
        incoming.into_claims().ok_or(TokenError::Malformed)
    }
}

impl PartialEq for GrantVerifyKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl Eq for GrantVerifyKey {}

impl fmt::Debug for GrantVerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GrantVerifyKey")
            .field(&self.to_base64())
            .finish()
    }
}

#[cfg(test)]
mod tests;
