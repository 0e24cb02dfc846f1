//! The crate's errors: [`AuthError`] for keys, sealed secrets, API keys and passwords, and
//! [`TokenError`] for grant tokens, which the proxy answers with a 401.

/// What went wrong with a key, a sealed secret, an API key or a password.
///
/// Messages name the environment variable and the expected format, never the secret itself,
/// so they are safe to log and to show at start-up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// `MCPGATE_GRANT_SIGNING_KEY` is not base64 of an Ed25519 PKCS#8 document.
    #[error(
        "MCPGATE_GRANT_SIGNING_KEY must be base64 of an Ed25519 PKCS#8 key ({reason}); \
         generate one with `mcpgate keygen`"
    )]
    InvalidSigningKey {
        /// What was wrong with the value.
        reason: &'static str,
    },
    /// `MCPGATE_GRANT_VERIFY_KEY` is not base64 of a 32-byte Ed25519 public key.
    #[error(
        "MCPGATE_GRANT_VERIFY_KEY must be base64 of the 32-byte Ed25519 public key that matches \
         MCPGATE_GRANT_SIGNING_KEY ({reason}); `mcpgate keygen` prints both"
    )]
    InvalidVerifyKey {
        /// What was wrong with the value.
        reason: &'static str,
    },
    /// `MCPGATE_SECRET_KEY` is not base64 of 32 bytes.
    #[error(
        "MCPGATE_SECRET_KEY must be base64 of 32 random bytes ({reason}); \
         generate one with `mcpgate keygen`"
    )]
    InvalidSecretKey {
        /// What was wrong with the value.
        reason: &'static str,
    },
    /// The sealed value is too short or was written in a format this version does not know.
    #[error("sealed secret is malformed: {reason}")]
    SealedMalformed {
        /// What was wrong with the value.
        reason: &'static str,
    },
    /// Authentication of a sealed value failed.
    #[error(
        "sealed secret cannot be opened: it was modified, moved to another row, \
         or sealed with a different MCPGATE_SECRET_KEY"
    )]
    SealedCannotOpen,
    /// The text is not shaped like an mcpgate API key.
    #[error("not an mcpgate API key: expected mcpg_<8 letters or digits>_<32 or more letters or digits>")]
    MalformedApiKey,
    /// A new password is too short.
    #[error("the password must be at least {min_chars} characters long")]
    PasswordTooShort {
        /// The minimum length in characters.
        min_chars: usize,
    },
    /// A new password is too long.
    #[error("the password must be at most {max_bytes} bytes long")]
    PasswordTooLong {
        /// The maximum length in bytes of its UTF-8 encoding.
        max_bytes: usize,
    },
    /// Argon2 refused to hash (only with parameters or inputs outside its limits).
    #[error("could not hash the password")]
    PasswordHash(#[source] argon2::password_hash::Error),
}

/// Why a grant token was refused.
///
/// The proxy answers each with `401` and
/// `WWW-Authenticate: Bearer error="invalid_token", error_description="<Display>"`
/// (RFC 6750 §3); the messages contain no `"` or `\`, so they fit in that quoted string as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWT, or its header or claims do not decode into a grant.
    #[error("the token is malformed")]
    Malformed,
    /// The header names an algorithm other than EdDSA (`none`, HS256, RS256, ...).
    #[error("the token is not signed with EdDSA")]
    DisallowedAlgorithm,
    /// The signature does not verify against the grant verify key.
    #[error("the token signature is invalid")]
    BadSignature,
    /// `exp` is in the past, beyond the leeway.
    #[error("the token has expired")]
    Expired,
    /// `iss` is missing or is not `mcpgate`.
    #[error("the token was not issued by mcpgate")]
    WrongIssuer,
    /// `aud` is missing or is not `mcpgate-proxy`.
    #[error("the token is not meant for the mcpgate proxy")]
    WrongAudience,
}

impl TokenError {
    /// Maps jsonwebtoken's error kinds onto ours; anything not about the signature,
    /// algorithm, issuer or audience is a malformed token.
    pub(crate) fn from_jwt(error: &jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::InvalidSignature => Self::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                Self::DisallowedAlgorithm
            }
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::InvalidIssuer => Self::WrongIssuer,
            ErrorKind::InvalidAudience => Self::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => Self::WrongIssuer,
            ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => Self::WrongAudience,
            _ => Self::Malformed,
        }
    }
}
