//! API keys: the tenants' credentials for the REST API.
//!
//! A key reads `mcpg_<prefix>_<secret>`: `mcpg_` makes leaked keys easy to spot in logs and
//! for secret scanners, the 8-character prefix finds the key's row (stored in clear, shown in
//! the dashboard), and the 32-character secret carries 190 bits from the CSPRNG.
//!
//! Only the prefix and SHA-256 of the whole key are stored. A fast hash is right here: slow
//! hashes such as argon2 exist to make guessing low-entropy human passwords expensive, but no
//! amount of hashing speed makes 190 random bits guessable, and a fast hash keeps every
//! API request cheap.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::error::AuthError;
use crate::random;

const SCHEME: &str = "mcpg_";
/// Characters in the prefix of an API key.
pub const API_KEY_PREFIX_LEN: usize = 8;
const SECRET_LEN: usize = 32;
/// Longer secrets are accepted (a later format may lengthen them), up to this bound.
const MAX_SECRET_LEN: usize = 128;

/// A freshly generated API key: the plaintext to show the tenant once, and what to store.
///
/// `Debug` does not show the plaintext.
pub struct ApiKey {
    plaintext: String,
    prefix: String,
    hash: [u8; 32],
}

impl ApiKey {
    /// A new random key.
    ///
    /// The prefix is 8 random base62 characters (47 bits): collisions are rare but possible,
    /// so the store should keep prefixes unique and generate again on a conflict.
    ///
    /// # Panics
    /// If the operating system cannot provide randomness.
    pub fn generate() -> Self {
        let prefix = random::base62(API_KEY_PREFIX_LEN);
        let secret = random::base62(SECRET_LEN);
        let plaintext = format!("{SCHEME}{prefix}_{secret}");
        let hash = hash(&plaintext);
        Self {
            plaintext,
            prefix,
            hash,
        }
    }

    /// Reads a key presented by a client: checks its shape and hashes it.
    ///
    /// The error does not repeat the text, which may be a real key with a typo.
    pub fn parse(text: &str) -> Result<ParsedKey, AuthError> {
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or(AuthError::MalformedApiKey)?;
        let (prefix, secret) = rest.split_once('_').ok_or(AuthError::MalformedApiKey)?;
        let well_formed = prefix.len() == API_KEY_PREFIX_LEN
            && (SECRET_LEN..=MAX_SECRET_LEN).contains(&secret.len())
            && is_base62(prefix)
            && is_base62(secret);
        if !well_formed {
            return Err(AuthError::MalformedApiKey);
        }
        Ok(ParsedKey {
            prefix: prefix.to_owned(),
            hash: hash(text),
        })
    }

    /// The whole key, to show the tenant once and never store.
    pub fn plaintext(&self) -> &str {
        &self.plaintext
    }

    /// The prefix, to store in clear and look the key up by.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// SHA-256 of the whole key, to store.
    pub fn hash(&self) -> &[u8; 32] {
        &self.hash
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A well-formed key presented by a client: look its prefix up, then compare hashes with
/// [`ParsedKey::matches`].
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedKey {
    prefix: String,
    hash: [u8; 32],
}

impl ParsedKey {
    /// The prefix, to look the stored key up by.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// SHA-256 of the whole key.
    pub fn hash(&self) -> &[u8; 32] {
        &self.hash
    }

    /// Whether `stored_hash` (from the prefix's row) is this key's hash, in constant time.
    pub fn matches(&self, stored_hash: &[u8]) -> bool {
        constant_time_eq(&self.hash, stored_hash)
    }
}

impl fmt::Debug for ParsedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedKey")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
///
/// For comparing hashes and tokens, whose lengths are public. ring's `verify_slices_are_equal`
/// is deprecated in 0.17 ("no promises regarding side channels"), hence this: every byte is
/// compared, and `black_box` keeps the optimiser from turning the fold into an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |difference, (x, y)| difference | (x ^ y));
    std::hint::black_box(difference) == 0
}

fn hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// ASCII letters and digits: the alphabet of `random::base62`.
fn is_base62(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests;
