//! The session ids the proxy gives clients.
//!
//! An upstream's `Mcp-Session-Id` never reaches the client. The client gets
//! `base64url(seal({upstream session, grant, server}, "mcp-session"))` instead (under the
//! session key, [`key`]), so a
//! session id is bound to the grant and server it was opened with, cannot be forged or
//! altered, and any proxy replica can read it back: no shared session table, no
//! sticky sessions (legacy HTTP+SSE excepted, see the README).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mcpgate_auth::{KeyPurpose, SecretKey};
use mcpgate_store::{GrantId, ServerId};
use serde::{Deserialize, Serialize};

const ASSOCIATED_DATA: &[u8] = b"mcp-session";

/// The key session ids are sealed with: derived from `MCPGATE_SECRET_KEY` for this
/// purpose only, so nothing sealed for another purpose (upstream credentials) opens as a
/// session id. Ids sealed before the key was derived no longer open: those clients get
/// 404 and initialise again.
pub(crate) fn key(secret_key: &SecretKey) -> SecretKey {
    secret_key.derive(KeyPurpose::ProxySession)
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The upstream's session id.
    u: String,
    g: GrantId,
    s: ServerId,
}

/// The client-facing id for the upstream's session `upstream`.
pub(crate) fn seal(key: &SecretKey, upstream: &str, grant: GrantId, server: ServerId) -> String {
    let plain = serde_json::to_vec(&Sealed {
        u: upstream.to_owned(),
        g: grant,
        s: server,
    })
    .expect("serialising a session id");
    URL_SAFE_NO_PAD.encode(key.seal(&plain, ASSOCIATED_DATA))
}

/// The upstream's session id behind `client_id`, if it was sealed by this deployment for
/// this grant and server; `None` otherwise (answered as "session not found").
pub(crate) fn open(
    key: &SecretKey,
    client_id: &str,
    grant: GrantId,
    server: ServerId,
) -> Option<String> {
    let sealed = URL_SAFE_NO_PAD.decode(client_id.trim()).ok()?;
    let plain = key.open(&sealed, ASSOCIATED_DATA).ok()?;
    let session: Sealed = serde_json::from_slice(&plain).ok()?;
    (session.g == grant && session.s == server).then_some(session.u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_opens_only_for_its_grant_and_server() {
        let key = SecretKey::generate();
        let (grant, server) = (GrantId::new(), ServerId::new());
        let id = seal(&key, "upstream-1", grant, server);
        assert_eq!(
            open(&key, &id, grant, server).as_deref(),
            Some("upstream-1")
        );
        assert_eq!(open(&key, &id, GrantId::new(), server), None);
        assert_eq!(open(&key, &id, grant, ServerId::new()), None);
        assert_eq!(open(&SecretKey::generate(), &id, grant, server), None);
        assert_eq!(open(&key, "upstream-1", grant, server), None);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn a_session_sealed_with_the_credentials_key_does_not_open_as_a_session() {
        let secret_key = SecretKey::generate();
        let session_key = key(&secret_key);
        let (grant, server) = (GrantId::new(), ServerId::new());
        let good = seal(&session_key, "upstream-1", grant, server);
        assert_eq!(
            open(&session_key, &good, grant, server).as_deref(),
            Some("upstream-1")
        );
        let credentials_key = secret_key.derive(KeyPurpose::UpstreamCredentials);
        let forged = seal(&credentials_key, "upstream-1", grant, server);
        assert_eq!(open(&session_key, &forged, grant, server), None);
        // Ids sealed with the configured key itself (before keys were derived) are gone too.
        let old = seal(&secret_key, "upstream-1", grant, server);
        assert_eq!(open(&session_key, &old, grant, server), None);
    }
}
