//! Randomness from the operating system's CSPRNG (ring's `SystemRandom`): session ids, CSRF
//! tokens, API key characters, nonces and salts all come from here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

/// The 62 characters API keys are made of: digits and ASCII letters, so a key survives
/// double-click selection, URLs and shell quoting.
pub(crate) const BASE62: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Fills `buffer` from the operating system's CSPRNG.
///
/// # Panics
/// If the operating system cannot provide randomness, which leaves no safe way to go on.
pub(crate) fn fill(buffer: &mut [u8]) {
    SystemRandom::new()
        .fill(buffer)
        .expect("the operating system's random number generator failed");
}

/// A random token of `bytes` random bytes, URL-safe base64 without padding
/// (`ceil(bytes * 4 / 3)` characters), for session ids and CSRF tokens.
///
/// Use at least 16 bytes (128 bits) for anything an attacker could guess at; 32 is a good
/// default for session ids.
pub fn random_token(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    fill(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// `length` characters drawn uniformly from [`BASE62`].
///
/// Rejection sampling keeps the draw uniform: bytes of 248 or more (62 × 4) are thrown away,
/// so `byte % 62` favours no character.
pub(crate) fn base62(length: usize) -> String {
    const LIMIT: u8 = 62 * 4;
    let mut out = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while out.len() < length {
        fill(&mut buffer);
        for &byte in buffer.iter().filter(|&&byte| byte < LIMIT) {
            if out.len() == length {
                break;
            }
            out.push(char::from(BASE62[usize::from(byte % 62)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{base62, random_token, BASE62};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    #[test]
    fn random_token_encodes_the_requested_number_of_bytes() {
        for bytes in [0, 1, 16, 32, 33] {
            let token = random_token(bytes);
            assert_eq!(URL_SAFE_NO_PAD.decode(&token).unwrap().len(), bytes);
            assert!(token
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(32), random_token(32));
    }

    #[test]
    fn base62_has_the_requested_length_and_alphabet() {
        for length in [0, 1, 8, 32, 200] {
            let text = base62(length);
            assert_eq!(text.len(), length);
            assert!(text.bytes().all(|c| BASE62.contains(&c)));
        }
    }

    #[test]
    fn base62_uses_every_character() {
        let text = base62(20_000);
        for &c in BASE62 {
            assert!(
                text.as_bytes().contains(&c),
                "{} never drawn",
                char::from(c)
            );
        }
    }
}
