//! The grant signing key: Ed25519, held only by the API, which issues grant tokens with it.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::claims::{GrantClaims, OutgoingClaims};
use crate::encoding::{decode_key, encode_key};
use crate::error::AuthError;
use crate::verify::GrantVerifyKey;

/// `{"alg":"EdDSA","typ":"JWT"}`, base64url: the header of every grant token never changes.
pub(crate) const HEADER: &str = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9";

/// The private key that signs grant tokens (`MCPGATE_GRANT_SIGNING_KEY`).
///
/// Only the API holds it; proxies hold the [`GrantVerifyKey`], so a compromised proxy cannot
/// mint credentials. `Debug` shows the public half only.
pub struct GrantSigningKey {
    pair: Ed25519KeyPair,
    /// The PKCS#8 document the key was read from, for [`GrantSigningKey::to_base64`].
    pkcs8: Vec<u8>,
}

impl GrantSigningKey {
    /// A new random key.
    ///
    /// # Panics
    /// If the operating system cannot provide randomness.
    pub fn generate() -> Self {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .expect("the operating system's random number generator failed");
        Self::from_pkcs8(document.as_ref()).expect("ring reads the key it generated")
    }

    /// Reads `MCPGATE_GRANT_SIGNING_KEY`: base64 of an Ed25519 PKCS#8 document, v2 (ring,
    /// `mcpgate keygen`) or v1 (`openssl genpkey -algorithm ed25519`).
    pub fn from_base64(text: &str) -> Result<Self, AuthError> {
        let bytes = decode_key(text).map_err(|reason| AuthError::InvalidSigningKey { reason })?;
        Self::from_pkcs8(&bytes).map_err(|_| AuthError::InvalidSigningKey {
            reason: if bytes.len() == 32 {
                "it is 32 bytes, the size of a verify key: the signing key is the PKCS#8 document"
            } else {
                "it is not an Ed25519 PKCS#8 document"
            },
        })
    }

    fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, ring::error::KeyRejected> {
        // `maybe_unchecked` accepts v1 documents, which carry no public key to check against.
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)?;
        Ok(Self {
            pair,
            pkcs8: pkcs8.to_vec(),
        })
    }

    /// The key as `MCPGATE_GRANT_SIGNING_KEY` holds it: base64 of its PKCS#8 document.
    pub fn to_base64(&self) -> String {
        encode_key(&self.pkcs8)
    }

    /// The public half, for proxies.
    pub fn verify_key(&self) -> GrantVerifyKey {
        let public: [u8; 32] = self
            .pair
            .public_key()
            .as_ref()
            .try_into()
            .expect("Ed25519 public keys are 32 bytes");
        GrantVerifyKey::from_public_key(public)
    }

    /// Signs `claims` into a compact JWT (`alg: EdDSA`) with `iss: mcpgate` and
    /// `aud: mcpgate-proxy`.
    pub fn issue(&self, claims: &GrantClaims) -> String {
        let payload = serde_json::to_vec(&OutgoingClaims::new(claims))
            .expect("grant claims are ids, numbers and strings, which always serialise");
        // 64-byte signature: 86 characters.
        let mut token = String::with_capacity(HEADER.len() + payload.len() * 4 / 3 + 92);
        token.push_str(HEADER);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = self.pair.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut token);
        token
    }
}

impl fmt::Debug for GrantSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantSigningKey")
            .field("verify_key", &self.verify_key().to_base64())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;

    use super::{GrantSigningKey, HEADER};
    use crate::error::AuthError;

    #[test]
    fn the_header_is_eddsa() {
        let header = URL_SAFE_NO_PAD.decode(HEADER).unwrap();
        assert_eq!(header, br#"{"alg":"EdDSA","typ":"JWT"}"#);
    }

    #[test]
    fn a_key_round_trips_through_base64() {
        let key = GrantSigningKey::generate();
        let again = GrantSigningKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(again.to_base64(), key.to_base64());
        assert_eq!(again.verify_key(), key.verify_key());
    }

    #[test]
    fn generated_keys_differ() {
        let (one, two) = (GrantSigningKey::generate(), GrantSigningKey::generate());
        assert_ne!(one.verify_key(), two.verify_key());
    }

    #[test]
    fn an_openssl_v1_document_is_accepted() {
        // `openssl genpkey -algorithm ed25519 -outform DER`: the v1 prefix, then the seed.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend([7u8; 32]);
        let key = GrantSigningKey::from_base64(&STANDARD.encode(&der)).unwrap();
        assert_eq!(key.to_base64(), STANDARD.encode(&der));
    }

    #[test]
    fn bad_keys_are_refused_with_the_variable_name() {
        let verify_key = GrantSigningKey::generate().verify_key().to_base64();
        for (text, reason) in [
            ("", "it is empty"),
            ("???", "it is not valid base64"),
            ("AAAA", "it is not an Ed25519 PKCS#8 document"),
            (
                verify_key.as_str(),
                "it is 32 bytes, the size of a verify key: the signing key is the PKCS#8 document",
            ),
        ] {
            let error = GrantSigningKey::from_base64(text).unwrap_err();
            assert!(matches!(error, AuthError::InvalidSigningKey { reason: r } if r == reason));
            let message = error.to_string();
            assert!(
                message.starts_with("MCPGATE_GRANT_SIGNING_KEY must be base64"),
                "{message}"
            );
            assert!(message.contains("mcpgate keygen"), "{message}");
        }
    }

    #[test]
    fn debug_shows_only_the_public_half() {
        let key = GrantSigningKey::generate();
        let debug = format!("{key:?}");
        assert!(debug.contains(&key.verify_key().to_base64()));
        assert!(!debug.contains(&key.to_base64()));
    }
}
