//! The session ids the proxy gives clients.
//!
//! An upstream's `Mcp-Session-Id` never reaches the client. The client gets
//! `base64url(seal({upstream session, grant, server}, "mcp-session"))` instead, so a
//! session id is bound to the grant and server it was opened with, cannot be forged or
//! altered, and any proxy replica can read it back: no shared session table, no
//! sticky sessions (legacy HTTP+SSE excepted, see the README).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use mcpgate_auth::SecretKey;
use mcpgate_store::{GrantId, ServerId};
use serde::{Deserialize, Serialize};

const ASSOCIATED_DATA: &[u8] = b"mcp-session";

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
}
