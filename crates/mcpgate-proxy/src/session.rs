//! The session ids the proxy gives clients.
//!
//! An upstream's `Mcp-Session-Id` never reaches the client. The client gets
//! `base64url(seal({upstream session, grant, server}, "mcp-session"))` instead (under the
//! session key, [`key`]), so a
//! session id is bound to the grant and server it was opened with, cannot be forged or
//! altered, and any proxy replica can read it back: no shared session table, no
//! sticky sessions (legacy HTTP+SSE excepted, see the README).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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

#[derive(Serialize, Deserialize, Debug)]
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
    let session = unseal(key, client_id.trim())?;
    (session.g == grant && session.s == server).then_some(session.u)
}

/// Session ids already opened, so a session's requests decrypt its id once rather than
/// on every request (base64, AES-GCM and JSON: about 6,000 instructions a request).
///
/// Opening is a pure function of the id under one key, so remembering the result changes
/// nothing: the grant and server are still compared on every request, and an id that
/// does not open is not remembered. Bounded like the token cache: when full, it starts
/// afresh.
/// How many opened ids [`OpenedIds`] keeps: at most a few MB (an id is about 150 bytes).
pub(crate) const OPENED_IDS: usize = 20_000;

#[derive(Debug)]
pub(crate) struct OpenedIds {
    key: Arc<SecretKey>,
    opened: RwLock<HashMap<Box<str>, Arc<Sealed>>>,
    capacity: usize,
}

impl OpenedIds {
    pub(crate) fn new(key: Arc<SecretKey>, capacity: usize) -> Self {
        Self {
            key,
            opened: RwLock::new(HashMap::new()),
            capacity,
        }
    }

    /// As [`open`], through the cache.
    pub(crate) fn open(&self, client_id: &str, grant: GrantId, server: ServerId) -> Option<String> {
        let client_id = client_id.trim();
        let hit = self
            .opened
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(client_id)
            .cloned();
        let session = match hit {
            Some(session) => session,
            None => {
                let session = Arc::new(unseal(&self.key, client_id)?);
                let mut opened = self
                    .opened
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if opened.len() >= self.capacity {
                    opened.clear();
                }
                opened.insert(client_id.into(), Arc::clone(&session));
                session
            }
        };
        (session.g == grant && session.s == server).then(|| session.u.clone())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.opened.read().unwrap().len()
    }
}

fn unseal(key: &SecretKey, client_id: &str) -> Option<Sealed> {
    let sealed = URL_SAFE_NO_PAD.decode(client_id).ok()?;
    let plain = key.open(&sealed, ASSOCIATED_DATA).ok()?;
    serde_json::from_slice(&plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_session_id_still_opens_only_for_its_grant_and_server() {
        let key = Arc::new(SecretKey::generate());
        let ids = OpenedIds::new(Arc::clone(&key), 2);
        let (grant, server) = (GrantId::new(), ServerId::new());
        let id = seal(&key, "upstream-1", grant, server);
        assert_eq!(ids.open(&id, grant, server).as_deref(), Some("upstream-1"));
        assert_eq!(ids.len(), 1, "the opened id is remembered");
        assert_eq!(ids.open(&id, grant, server).as_deref(), Some("upstream-1"));
        assert_eq!(ids.open(&id, GrantId::new(), server), None);
        assert_eq!(ids.open(&id, grant, ServerId::new()), None);
        assert_eq!(ids.open("not-a-session", grant, server), None);
        assert_eq!(ids.len(), 1, "an id that does not open is not remembered");
        let other = seal(&key, "upstream-2", grant, server);
        let third = seal(&key, "upstream-3", grant, server);
        assert_eq!(
            ids.open(&other, grant, server).as_deref(),
            Some("upstream-2")
        );
        assert_eq!(
            ids.open(&third, grant, server).as_deref(),
            Some("upstream-3")
        );
        assert!(ids.len() <= 2, "bounded by its capacity");
        assert_eq!(ids.open(&id, grant, server).as_deref(), Some("upstream-1"));
    }

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
