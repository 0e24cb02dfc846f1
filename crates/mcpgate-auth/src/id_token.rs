//! OpenID Connect ID tokens (Core 1.0 §3.1.3.7), verified for single sign-on: the
//! signature (RS256 or ES256) with a key of the issuer's JWKS, `iss` exactly the
//! configured issuer, `aud` the client id, `exp` in the future, `nonce` the one sent,
//! and the email the provider vouches for (`email_verified`).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::api_key::constant_time_eq;

/// What a verified ID token says about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The provider's stable id of the person.
    pub subject: String,
    /// The address, verified by the provider.
    pub email: String,
}

/// Why an ID token is refused, worded for the person signing in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("the ID token is malformed or its signature does not verify: {0}")]
    Signature(String),
    #[error("the ID token is signed with {0}; only RS256 and ES256 are accepted")]
    Algorithm(String),
    #[error("the identity provider's keys have no key for this ID token")]
    UnknownKey,
    #[error("the ID token was issued by another issuer than the configured one")]
    WrongIssuer,
    #[error("the ID token is for another client")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token's nonce is not the one this sign-in sent")]
    WrongNonce,
    #[error("the identity provider gave no email address")]
    NoEmail,
    #[error("the identity provider has not verified this email address")]
    UnverifiedEmail,
}

/// The claims read from an ID token.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// Some providers send `"true"` as a string.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

/// What an ID token must match.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenExpectations<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

/// Verifies `token` against the issuer's `jwks` and `expected`.
pub fn verify_id_token(
    token: &str,
    jwks: &JwkSet,
    expected: &IdTokenExpectations<'_>,
) -> Result<VerifiedIdentity, IdTokenError> {
    let header = decode_header(token).map_err(|e| IdTokenError::Signature(e.to_string()))?;
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
        return Err(IdTokenError::Algorithm(format!("{:?}", header.alg)));
    }
    let jwk = match &header.kid {
        Some(kid) => jwks.find(kid),
        None if jwks.keys.len() == 1 => jwks.keys.first(),
        None => None,
    }
    .ok_or(IdTokenError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| IdTokenError::Signature(e.to_string()))?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[expected.issuer]);
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 60;
    let claims = decode::<Claims>(token, &key, &validation)
        .map_err(|error| match error.kind() {
            ErrorKind::InvalidIssuer => IdTokenError::WrongIssuer,
            ErrorKind::InvalidAudience => IdTokenError::WrongAudience,
            ErrorKind::ExpiredSignature => IdTokenError::Expired,
            _ => IdTokenError::Signature(error.to_string()),
        })?
        .claims;
    let nonce_matches = claims
        .nonce
        .as_deref()
        .is_some_and(|nonce| constant_time_eq(nonce.as_bytes(), expected.nonce.as_bytes()));
    if !nonce_matches {
        return Err(IdTokenError::WrongNonce);
    }
    let email = claims
        .email
        .filter(|email| email.contains('@'))
        .ok_or(IdTokenError::NoEmail)?;
    let verified = match claims.email_verified {
        Some(serde_json::Value::Bool(verified)) => verified,
        Some(serde_json::Value::String(text)) => text == "true",
        _ => false,
    };
    if !verified {
        return Err(IdTokenError::UnverifiedEmail);
    }
    Ok(VerifiedIdentity {
        subject: claims.sub,
        email,
    })
}

#[cfg(test)]
mod tests;
