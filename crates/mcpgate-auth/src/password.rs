//! Dashboard passwords: argon2id hashes in PHC string format.
//!
//! Parameters are the argon2 crate's defaults, which are OWASP's first recommended argon2id
//! configuration (Password Storage Cheat Sheet): 19 MiB of memory (m=19456), 2 passes (t=2),
//! 1 lane (p=1), 16-byte random salt, 32-byte output. They are written into each hash, so
//! raising them later leaves old hashes verifiable.
//!
//! Hashing and verifying each take tens of milliseconds of one core and 19 MiB: callers in
//! async code must run them on `tokio::task::spawn_blocking`, never on a runtime thread.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::AuthError;
use crate::random;

/// The fewest characters (Unicode scalar values) a new password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The most bytes (UTF-8) a password may have: enough for any passphrase, and a bound on the
/// work an attacker can ask of the server.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks a new password's length (sign-up, password change): at least
/// [`MIN_PASSWORD_CHARS`] characters and at most [`MAX_PASSWORD_BYTES`] bytes.
pub fn validate_password(password: &str) -> Result<(), AuthError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::PasswordTooLong {
            max_bytes: MAX_PASSWORD_BYTES,
        });
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::PasswordTooShort {
            min_chars: MIN_PASSWORD_CHARS,
        });
    }
    Ok(())
}

/// Hashes a password with argon2id and a fresh salt, as a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`). CPU-heavy: see the module docs.
///
/// Does not check the length; call [`validate_password`] first for new passwords.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    random::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(AuthError::PasswordHash)?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(AuthError::PasswordHash)?;
    Ok(hash.to_string())
}

/// Whether `password` matches `phc`, a hash from [`hash_password`]. CPU-heavy: see the
/// module docs.
///
/// `false` for a wrong password, an unreadable hash, or a password longer than
/// [`MAX_PASSWORD_BYTES`] (refused before any hashing work).
pub fn verify_password(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    // The parameters come from the PHC string, so hashes made with older settings still verify.
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::{hash_password, validate_password, verify_password, MAX_PASSWORD_BYTES};
    use crate::error::AuthError;

    #[test]
    fn a_hashed_password_verifies_and_others_do_not() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("correct horse battery stapler", &phc));
        assert!(!verify_password("", &phc));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(
            hash_password("same password").unwrap(),
            hash_password("same password").unwrap()
        );
    }

    #[test]
    fn unreadable_hashes_and_overlong_passwords_do_not_verify() {
        assert!(!verify_password("anything at all", ""));
        assert!(!verify_password("anything at all", "not a phc string"));
        assert!(!verify_password(
            "anything at all",
            "$2b$12$bcrypthashbcrypthash"
        ));
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        let phc = hash_password(&long).unwrap();
        assert!(!verify_password(&long, &phc));
    }

    #[test]
    fn new_passwords_need_ten_characters() {
        assert!(validate_password("0123456789").is_ok());
        assert!(validate_password("ééééééééé€").is_ok());
        let error = validate_password("012345678").unwrap_err();
        assert!(matches!(
            error,
            AuthError::PasswordTooShort { min_chars: 10 }
        ));
        assert_eq!(
            error.to_string(),
            "the password must be at least 10 characters long"
        );
        assert!(validate_password("").is_err());
    }

    #[test]
    fn new_passwords_are_at_most_1024_bytes() {
        assert!(validate_password(&"x".repeat(1024)).is_ok());
        let error = validate_password(&"x".repeat(1025)).unwrap_err();
        assert!(matches!(
            error,
            AuthError::PasswordTooLong { max_bytes: 1024 }
        ));
        // Bytes, not characters: 342 three-byte characters are 1026 bytes.
        assert!(validate_password(&"€".repeat(342)).is_err());
    }
}
