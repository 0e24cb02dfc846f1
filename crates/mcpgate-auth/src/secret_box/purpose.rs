//! One key per purpose, derived from `MCPGATE_SECRET_KEY`.
//!
//! Upstream credentials at rest and the proxy's session ids are sealed under different
//! keys: HKDF-SHA256 (RFC 5869) of the configured key, without salt, with the purpose's
//! label as `info`. A value sealed for one purpose never opens for another, and a key
//! that leaks through one use (say, a session id oracle) says nothing about the others.
//!
//! Credentials stored before the keys were derived were sealed with the configured key
//! itself; [`CredentialsKey::open`] still opens them (nothing stored is lost), and every
//! new seal uses the derived key. Session ids are short-lived and are not carried over:
//! a client holding one from before gets 404 and initialises again.

use ring::hkdf::{KeyType, Salt, HKDF_SHA256};
use uuid::Uuid;

use super::SecretKey;
use crate::error::AuthError;

/// What a key derived from `MCPGATE_SECRET_KEY` is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// Upstream servers' headers, sealed by the API and opened by the proxy.
    UpstreamCredentials,
    /// The session ids the proxy gives its clients.
    ProxySession,
}

impl KeyPurpose {
    /// Every purpose, for tests that compare them.
    pub const ALL: [KeyPurpose; 2] = [KeyPurpose::UpstreamCredentials, KeyPurpose::ProxySession];

    /// The HKDF `info` label. Changing one makes everything sealed for it unreadable: a
    /// new label gets a new version suffix and the old one stays readable.
    pub const fn label(self) -> &'static str {
        match self {
            KeyPurpose::UpstreamCredentials => "mcpgate upstream credentials v1",
            KeyPurpose::ProxySession => "mcpgate proxy session v1",
        }
    }
}

impl SecretKey {
    /// The key for `purpose`: HKDF-SHA256 of this key with the purpose's label as `info`.
    pub fn derive(&self, purpose: KeyPurpose) -> SecretKey {
        let mut bytes = [0u8; 32];
        hkdf_sha256(&self.bytes, purpose.label().as_bytes(), &mut bytes);
        SecretKey::from_bytes(bytes)
    }
}

/// RFC 5869 with an empty salt: `out.len()` bytes of output keying material.
fn hkdf_sha256(input_key: &[u8], info: &[u8], out: &mut [u8]) {
    struct Length(usize);
    impl KeyType for Length {
        fn len(&self) -> usize {
            self.0
        }
    }
    Salt::new(HKDF_SHA256, &[])
        .extract(input_key)
        .expand(&[info], Length(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF-SHA256 yields up to 8160 bytes");
}

/// Seals and opens servers' upstream credentials: the one contract between the API,
/// which seals them, and the proxy, which opens them.
pub struct CredentialsKey {
    pub(super) derived: SecretKey,
    /// The configured key itself, which sealed credentials before keys were derived.
    legacy: SecretKey,
}

impl CredentialsKey {
    /// The credentials key of the configured `MCPGATE_SECRET_KEY`.
    pub fn new(secret_key: &SecretKey) -> Self {
        Self {
            derived: secret_key.derive(KeyPurpose::UpstreamCredentials),
            legacy: SecretKey::from_bytes(secret_key.bytes),
        }
    }

    /// Seals a server's headers (a JSON object), bound to the server's row: a value
    /// copied onto another tenant's or server's row does not open.
    pub fn seal_server_headers(&self, tenant: Uuid, server: Uuid, plaintext: &[u8]) -> Vec<u8> {
        self.derived
            .seal(plaintext, &server_headers_associated_data(tenant, server))
    }

    /// Opens what [`CredentialsKey::seal_server_headers`] sealed for this row, or what was
    /// sealed with the configured key itself before keys were derived.
    pub fn open_server_headers(
        &self,
        tenant: Uuid,
        server: Uuid,
        sealed: &[u8],
    ) -> Result<Vec<u8>, AuthError> {
        let associated_data = server_headers_associated_data(tenant, server);
        self.derived
            .open(sealed, &associated_data)
            .or_else(|_| self.legacy.open(sealed, &associated_data))
    }
}

impl CredentialsKey {
    /// Seals a tenant's audit-export signing secret, bound to the tenant: a value copied
    /// onto another tenant's row, or read as a server's headers, does not open.
    pub fn seal_export_secret(&self, tenant: Uuid, secret: &[u8]) -> Vec<u8> {
        self.derived
            .seal(secret, &export_secret_associated_data(tenant))
    }

    /// Opens what [`CredentialsKey::seal_export_secret`] sealed for this tenant.
    pub fn open_export_secret(&self, tenant: Uuid, sealed: &[u8]) -> Result<Vec<u8>, AuthError> {
        self.derived
            .open(sealed, &export_secret_associated_data(tenant))
    }
}

/// `audit-export-secret:<tenant>`: the row a sealed export secret belongs to.
fn export_secret_associated_data(tenant: Uuid) -> Vec<u8> {
    format!("audit-export-secret:{tenant}").into_bytes()
}

/// `server-headers:<tenant>:<server>`: the row a sealed header object belongs to.
fn server_headers_associated_data(tenant: Uuid, server: Uuid) -> Vec<u8> {
    format!("server-headers:{tenant}:{server}").into_bytes()
}

impl std::fmt::Debug for CredentialsKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CredentialsKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hkdf_matches_rfc_5869_test_case_3() {
        // A.3: SHA-256, zero-length salt and info.
        let mut okm = [0u8; 42];
        hkdf_sha256(&[0x0b; 22], &[], &mut okm);
        let expected = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d\
                        9d201395faa4b61a96c8";
        let hex: String = okm.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn derived_keys_differ_per_purpose_and_from_the_configured_key() {
        let key = SecretKey::generate();
        let [credentials, session] = KeyPurpose::ALL.map(|purpose| key.derive(purpose).bytes);
        assert_ne!(credentials, session);
        assert_ne!(credentials, key.bytes);
        assert_ne!(session, key.bytes);
        // Deterministic: every replica derives the same keys from the same secret.
        assert_eq!(key.derive(KeyPurpose::ProxySession).bytes, session);
        let labels = KeyPurpose::ALL.map(KeyPurpose::label);
        assert_ne!(labels[0], labels[1]);
    }

    #[test]
    fn a_credential_sealed_with_the_legacy_key_still_opens() {
        let key = SecretKey::generate();
        let (tenant, server) = (Uuid::now_v7(), Uuid::now_v7());
        let associated_data = server_headers_associated_data(tenant, server);
        // What the API stored before keys were derived: the configured key itself.
        let legacy = key.seal(br#"{"authorization":"Bearer x"}"#, &associated_data);
        let credentials = CredentialsKey::new(&key);
        assert!(
            credentials.derived.open(&legacy, &associated_data).is_err(),
            "the derived key alone cannot open it"
        );
        assert_eq!(
            credentials
                .open_server_headers(tenant, server, &legacy)
                .unwrap(),
            br#"{"authorization":"Bearer x"}"#
        );
        // Still bound to its row.
        assert!(credentials
            .open_server_headers(tenant, Uuid::now_v7(), &legacy)
            .is_err());
    }

    #[test]
    fn new_credentials_are_sealed_with_the_derived_key_only() {
        let key = SecretKey::generate();
        let (tenant, server) = (Uuid::now_v7(), Uuid::now_v7());
        let credentials = CredentialsKey::new(&key);
        let sealed = credentials.seal_server_headers(tenant, server, b"{}");
        let associated_data = server_headers_associated_data(tenant, server);
        assert!(key.open(&sealed, &associated_data).is_err());
        assert_eq!(
            key.derive(KeyPurpose::UpstreamCredentials)
                .open(&sealed, &associated_data)
                .unwrap(),
            b"{}"
        );
        assert_eq!(
            credentials
                .open_server_headers(tenant, server, &sealed)
                .unwrap(),
            b"{}"
        );
        let other = CredentialsKey::new(&SecretKey::generate());
        assert!(other.open_server_headers(tenant, server, &sealed).is_err());
    }
}
