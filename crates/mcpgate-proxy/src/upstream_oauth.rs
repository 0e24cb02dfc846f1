//! Upstream OAuth in the proxy: a connected server's access token rides in its cached
//! entry's headers (no lookup per call), and the proxy refreshes it shortly before it
//! expires, once across every replica.
//!
//! Within a process, the first request to find the entry due runs the refresh and the
//! others wait for it on the entry's cell. Across replicas, the connection's row lock
//! ([`RefreshLock`]) serialises them: the winner trades the refresh token, stores the
//! new generation and announces the server; a replica that waited finds the newer
//! generation and only reloads. A refused refresh (`invalid_grant`: revoked, expired)
//! turns the server "needs reconnect", and calls are answered with an error naming it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue};
use mcpgate_auth::{CredentialsKey, OAuthTokens, ServerSecret};
use mcpgate_store::changes::{self, Change};
use mcpgate_store::upstream_oauth::{
    self as store, Connection, ConnectionEvent, ConnectionStatus, RefreshLock, RefreshTurn,
    SealedTokens,
};
use mcpgate_store::StoreError;
use mcpgate_upstream::upstream_oauth::{refresh_tokens, ClientCredentials, OAuthError};

use crate::cache::{CredentialsProblem, ServerEntry};
use crate::state::AppState;

/// How long a replica waits for another's refresh before giving up for this request.
const LOCK_WAIT: Duration = Duration::from_secs(15);
/// Refresh this long before expiry, or a third of the lifetime if that is shorter.
const REFRESH_AHEAD: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Who refreshes, in the audit log.
const ACTOR: &str = "mcpgate-proxy";

/// A connected server's refresh schedule, in its cache entry.
#[derive(Debug)]
pub(crate) struct OAuthEntry {
    /// The tokens' generation this entry was loaded with.
    generation: i64,
    /// When to refresh; `None`: the access token does not expire (as far as we know).
    refresh_at: Option<DateTime<Utc>>,
    /// The entry that replaced this one after a refresh (one per process).
    refreshed: tokio::sync::OnceCell<Arc<ServerEntry>>,
}

/// The headers and schedule for a server with an OAuth connection: its access token
/// as `Authorization` when connected, else the reason calls cannot go upstream.
pub(crate) fn with_access_token(
    credentials: &CredentialsKey,
    server_name: &str,
    headers: Result<HeaderMap, CredentialsProblem>,
    connection: &Connection,
) -> (Result<HeaderMap, CredentialsProblem>, Option<OAuthEntry>) {
    let not_connected = |message: String| Err(CredentialsProblem::NotConnected(Arc::from(message)));
    match connection.status {
        ConnectionStatus::NeedsConnect => (
            not_connected(format!(
                "upstream server {server_name:?} authenticates with OAuth and is not connected \
                 yet: an administrator of this mcpgate account must Connect it"
            )),
            None,
        ),
        ConnectionStatus::NeedsReconnect => (
            not_connected(format!(
                "upstream server {server_name:?} needs reconnecting: its OAuth authorization \
                 failed ({}); an administrator of this mcpgate account must Connect it again",
                connection
                    .status_reason
                    .as_deref()
                    .unwrap_or("the authorization server refused it")
            )),
            None,
        ),
        ConnectionStatus::Connected => {
            let mut headers = match headers {
                Ok(headers) => headers,
                Err(problem) => return (Err(problem), None),
            };
            let tokens = match open_tokens(credentials, connection) {
                Ok(tokens) => tokens,
                Err(reason) => return (Err(CredentialsProblem::Unreadable(reason)), None),
            };
            let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", tokens.access_token))
            else {
                let reason = "the access token is not a valid header value".to_owned();
                return (Err(CredentialsProblem::Unreadable(reason)), None);
            };
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
            let refresh_at = refresh_at(
                connection.access_issued_at,
                connection.access_expires_at,
                tokens.refresh_token.is_some(),
            );
            (
                Ok(headers),
                Some(OAuthEntry {
                    generation: connection.generation,
                    refresh_at,
                    refreshed: tokio::sync::OnceCell::new(),
                }),
            )
        }
    }
}

/// When a token issued at `issued` and expiring at `expires` is refreshed: a minute
/// ahead, or a third of its lifetime ahead if that is less. Without a refresh token,
/// at expiry (when the server turns "needs reconnect").
fn refresh_at(
    issued: Option<DateTime<Utc>>,
    expires: Option<DateTime<Utc>>,
    refreshable: bool,
) -> Option<DateTime<Utc>> {
    let expires = expires?;
    if !refreshable {
        return Some(expires);
    }
    let lifetime = issued.map_or(REFRESH_AHEAD * 3, |issued| expires - issued);
    Some(expires - REFRESH_AHEAD.min(lifetime / 3))
}

/// The server as a request should use it: refreshed first when its token is due.
pub(crate) async fn current(state: &AppState, server: Arc<ServerEntry>) -> Arc<ServerEntry> {
    let Some(oauth) = &server.oauth else {
        return server;
    };
    if oauth.refresh_at.is_none_or(|at| at > Utc::now()) {
        return server;
    }
    let refreshed = oauth
        .refreshed
        .get_or_try_init(|| refresh(state, &server, oauth.generation))
        .await;
    match refreshed {
        Ok(entry) => Arc::clone(entry),
        Err(error) => {
            // The token may still be valid; the next request tries again.
            tracing::warn!(server = %server.id, %error, "refreshing the upstream OAuth token failed");
            server
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unavailable(OAuthError),
    #[error("the server was deleted")]
    Gone,
}

async fn refresh(
    state: &AppState,
    server: &ServerEntry,
    seen: i64,
) -> Result<Arc<ServerEntry>, RefreshError> {
    let (tenant, id) = (server.tenant, server.id);
    let db = state.cache.db();
    if let RefreshTurn::Due(lock) = RefreshLock::acquire(db, tenant, id, seen, LOCK_WAIT).await? {
        let outcome = trade(state, lock.connection()).await;
        let event = match outcome {
            Ok(tokens) => {
                lock.store(&tokens).await?;
                (ConnectionEvent::Refreshed, None)
            }
            Err(Failure::Refused(reason)) => {
                lock.fail(&reason).await?;
                (ConnectionEvent::RefreshFailed, Some(reason))
            }
            Err(Failure::Unavailable(error)) => return Err(RefreshError::Unavailable(error)),
        };
        if let Err(error) = store::audit(db, tenant, id, event.0, event.1.as_deref(), ACTOR).await {
            tracing::error!(server = %id, %error, "could not audit an upstream OAuth refresh");
        }
        let change = Change::Server { tenant, server: id };
        if let Err(error) = changes::publish(&state.redis, &change).await {
            tracing::warn!(%error, "could not announce a refresh; replicas reload at their resync");
        }
    }
    state
        .cache
        .reload_server(tenant, id)
        .await?
        .ok_or(RefreshError::Gone)
}

enum Failure {
    /// The grant is gone: the server needs reconnecting, for this reason.
    Refused(String),
    Unavailable(OAuthError),
}

/// Trades the refresh token for new tokens, sealed.
async fn trade(state: &AppState, connection: &Connection) -> Result<SealedTokens, Failure> {
    let credentials = state.cache.credentials();
    let tokens = open_tokens(credentials, connection).map_err(Failure::Refused)?;
    let Some(refresh_token) = tokens.refresh_token else {
        return Err(Failure::Refused(
            "the access token expired and the authorization server gave no refresh token"
                .to_owned(),
        ));
    };
    let (Some(token_endpoint), Some(client_id)) =
        (&connection.token_endpoint, &connection.client_id)
    else {
        return Err(Failure::Refused(
            "the connection lacks its token endpoint or client".to_owned(),
        ));
    };
    let client_secret = match &connection.client_secret_sealed {
        None => None,
        Some(sealed) => Some(
            credentials
                .open_server_secret(
                    ServerSecret::OAuthClientSecret,
                    connection.tenant_id.as_uuid(),
                    connection.server_id.as_uuid(),
                    sealed,
                )
                .ok()
                .and_then(|plain| String::from_utf8(plain).ok())
                .ok_or_else(|| Failure::Refused("the client secret cannot be opened".to_owned()))?,
        ),
    };
    let client = ClientCredentials {
        client_id: client_id.clone(),
        client_secret,
    };
    let answer = refresh_tokens(
        &state.http,
        token_endpoint,
        &client,
        &refresh_token,
        &connection.resource,
    )
    .await;
    match answer {
        Ok(new) => {
            let sealed = credentials.seal_oauth_tokens(
                connection.tenant_id.as_uuid(),
                connection.server_id.as_uuid(),
                &OAuthTokens {
                    access_token: new.access_token,
                    // RFC 6749 §6: no new refresh token means the old one stays valid.
                    refresh_token: new.refresh_token.or(Some(refresh_token)),
                },
            );
            Ok(SealedTokens::issued(sealed, Utc::now(), new.expires_in))
        }
        Err(error) if error.is_refusal() => Err(Failure::Refused(error.to_string())),
        Err(error) => Err(Failure::Unavailable(error)),
    }
}

fn open_tokens(
    credentials: &CredentialsKey,
    connection: &Connection,
) -> Result<OAuthTokens, String> {
    let sealed = connection
        .tokens_sealed
        .as_deref()
        .ok_or("a connected server has no tokens")?;
    credentials
        .open_oauth_tokens(
            connection.tenant_id.as_uuid(),
            connection.server_id.as_uuid(),
            sealed,
        )
        .map_err(|e| format!("the OAuth tokens cannot be opened: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn a_token_is_refreshed_a_minute_ahead_or_a_third_of_a_short_lifetime_ahead() {
        assert_eq!(
            refresh_at(Some(at(0)), Some(at(3600)), true),
            Some(at(3540))
        );
        assert_eq!(refresh_at(Some(at(0)), Some(at(9)), true), Some(at(6)));
        assert_eq!(refresh_at(None, Some(at(3600)), true), Some(at(3540)));
    }

    #[test]
    fn without_a_refresh_token_or_an_expiry_nothing_is_refreshed_early() {
        assert_eq!(
            refresh_at(Some(at(0)), Some(at(3600)), false),
            Some(at(3600))
        );
        assert_eq!(refresh_at(Some(at(0)), None, true), None);
    }
}
