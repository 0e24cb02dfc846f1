//! The secret box: AES-256-GCM encryption at rest for upstream credentials, and for the
//! proxy's session ids, each under its own key derived from `MCPGATE_SECRET_KEY`
//! ([`KeyPurpose`]).
//!
//! A sealed value is `version (1 byte) ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//! Version 1 is AES-256-GCM with a random nonce; the version byte lets a later format (another
//! cipher, a key id for rotation) be read next to this one. The version byte is authenticated
//! together with the caller's associated data, so it cannot be swapped either.
//!
//! Random 96-bit nonces are safe for about 2³² seals under one key (NIST SP 800-38D §8.3);
//! upstream credentials are written far less often than that.

mod purpose;
mod sso;
mod upstream_oauth;

use std::fmt;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};

use crate::encoding::{decode_key, encode_key};
use crate::error::AuthError;
use crate::random;

pub use purpose::{CredentialsKey, KeyPurpose};
pub use upstream_oauth::{OAuthTokens, ServerSecret, TokensOwner};

const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
/// The length of a sealed empty plaintext: the overhead of every sealed value.
const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// The key that seals upstream credentials at rest (`MCPGATE_SECRET_KEY`, 32 bytes).
///
/// `Debug` does not show the key.
pub struct SecretKey {
    key: LessSafeKey,
    bytes: [u8; 32],
}

impl SecretKey {
    /// A new random key.
    ///
    /// # Panics
    /// If the operating system cannot provide randomness.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        random::fill(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// Reads `MCPGATE_SECRET_KEY`: base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, AuthError> {
        let decoded = decode_key(text).map_err(|reason| AuthError::InvalidSecretKey { reason })?;
        let bytes: [u8; 32] =
            decoded
                .as_slice()
                .try_into()
                .map_err(|_| AuthError::InvalidSecretKey {
                    reason: "it is not 32 bytes long",
                })?;
        Ok(Self::from_bytes(bytes))
    }

    fn from_bytes(bytes: [u8; 32]) -> Self {
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes).expect("AES-256 keys are 32 bytes");
        Self {
            key: LessSafeKey::new(unbound),
            bytes,
        }
    }

    /// The key as `MCPGATE_SECRET_KEY` holds it: base64 of its 32 bytes.
    pub fn to_base64(&self) -> String {
        encode_key(&self.bytes)
    }

    /// Encrypts `plaintext`, bound to `associated_data`.
    ///
    /// `associated_data` is not stored; [`SecretKey::open`] needs the same bytes. Pass what
    /// identifies the row the value belongs to (e.g. tenant id ‖ server id, both 16 bytes, so
    /// the concatenation is unambiguous): a sealed value copied to another row will not open.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        random::fill(&mut nonce);
        let mut sealed = Vec::with_capacity(OVERHEAD + plaintext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(plaintext);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(versioned(associated_data)),
                &mut sealed[1 + NONCE_LEN..],
            )
            .expect("AES-GCM seals up to 64 GiB at once");
        sealed.extend_from_slice(tag.as_ref());
        sealed
    }

    /// Decrypts a value from [`SecretKey::seal`], given the same `associated_data`.
    pub fn open(&self, sealed: &[u8], associated_data: &[u8]) -> Result<Vec<u8>, AuthError> {
        if sealed.len() < OVERHEAD {
            return Err(AuthError::SealedMalformed {
                reason: "it is shorter than the 29 bytes every sealed value has",
            });
        }
        if sealed[0] != VERSION {
            return Err(AuthError::SealedMalformed {
                reason: "its format version is unknown",
            });
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
            .expect("the slice is NONCE_LEN bytes");
        let mut buffer = sealed[1 + NONCE_LEN..].to_vec();
        let plaintext_len = self
            .key
            .open_in_place(nonce, Aad::from(versioned(associated_data)), &mut buffer)
            .map_err(|_| AuthError::SealedCannotOpen)?
            .len();
        buffer.truncate(plaintext_len);
        Ok(buffer)
    }
}

/// `VERSION ‖ associated_data`: what GCM authenticates besides the ciphertext.
fn versioned(associated_data: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(1 + associated_data.len());
    aad.push(VERSION);
    aad.extend_from_slice(associated_data);
    aad
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

#[cfg(test)]
mod tests;
