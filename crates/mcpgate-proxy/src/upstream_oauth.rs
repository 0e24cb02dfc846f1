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
//!
//! An upstream that answers a message with 401 before the token is due (revoked or
//! rotated early) gets one refresh, the same way, and the message once more
//! ([`after_unauthorized`]). An authorization server that cannot be reached is backed
//! off from on the schedule in the row (`mcpgate_service::upstream_oauth`): meanwhile a
//! token that is still valid keeps being sent, and an expired one is not sent at all
//! ([`OAuthEntry::usable`]).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use http::{HeaderMap, HeaderValue};
use mcpgate_auth::CredentialsKey;
use mcpgate_service::upstream_oauth::{self as refreshing, open_tokens, Occasion, Refresher};
use mcpgate_store::changes::{self, Change};
use mcpgate_store::upstream_oauth::{Connection, ConnectionStatus, RefreshFailure};
use mcpgate_store::StoreError;

use crate::cache::{CredentialsProblem, ServerEntry};
use crate::relay::UpstreamFailure;
use crate::state::AppState;

pub(crate) mod per_grant;

pub(crate) use per_grant::{GrantConnections, Scope};

/// How long a replica waits for another's refresh before giving up for this request.
const LOCK_WAIT: Duration = Duration::from_secs(15);
/// Refresh this long before expiry, or a third of the lifetime if that is shorter.
const REFRESH_AHEAD: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// Who refreshes, in the audit log.
const ACTOR: &str = "mcpgate-proxy";

/// A connected server's refresh schedule, in its cache entry (or a grant's own
/// connection's, in the grant's entry: `T` is the entry a refresh replaces).
#[derive(Debug)]
pub(crate) struct OAuthEntry<T = ServerEntry> {
    /// The tokens' generation this entry was loaded with.
    generation: i64,
    /// When to refresh; `None`: the access token does not expire (as far as we know).
    refresh_at: Option<DateTime<Utc>>,
    /// When the access token expires, if it does.
    expires_at: Option<DateTime<Utc>>,
    /// The last refresh failed for now (authorization server unreachable): nobody
    /// refreshes before its `next_attempt_at`.
    failure: Option<RefreshFailure>,
    /// The server's name, for the errors agents read.
    server_name: Arc<str>,
    /// The entry that replaced this one after a refresh (one per process).
    refreshed: tokio::sync::OnceCell<Arc<T>>,
}

/// The headers and schedule for a server with an OAuth connection: its access token
/// as `Authorization` when connected, else the reason calls cannot go upstream.
pub(crate) fn with_access_token<T>(
    credentials: &CredentialsKey,
    server_name: &str,
    headers: Result<HeaderMap, CredentialsProblem>,
    connection: &Connection,
) -> (Result<HeaderMap, CredentialsProblem>, Option<OAuthEntry<T>>) {
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
                    expires_at: connection.access_expires_at,
                    failure: connection.refresh_failure.clone(),
                    server_name: Arc::from(server_name),
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
    let now = Utc::now();
    if oauth.refresh_at.is_none_or(|at| at > now) || oauth.backing_off(now) {
        return server;
    }
    renewed(state, &server, oauth, Occasion::Due)
        .await
        .unwrap_or(server)
}

/// After the upstream answered a message with 401: the server with a newer token to
/// send the message with once more, if there is one. `Err` when the token cannot be
/// renewed (needs reconnecting, or the authorization server is unreachable): the
/// message is answered with that. `Ok(None)`: nothing better than the 401 to say.
///
/// At most one refresh per entry (and so per message): the refreshed entry is kept in
/// the old one's cell, and its own 401 is not retried by the caller.
pub(crate) async fn after_unauthorized(
    state: &AppState,
    server: &Arc<ServerEntry>,
) -> Result<Option<Arc<ServerEntry>>, UpstreamFailure> {
    let Some(oauth) = &server.oauth else {
        return Ok(None);
    };
    let now = Utc::now();
    if oauth.backing_off(now) {
        return Err(oauth.unavailable(now, "refused its OAuth access token"));
    }
    let Some(renewed) = renewed(state, server, oauth, Occasion::RefusedByUpstream).await else {
        return Ok(None);
    };
    if let Err(problem) = &renewed.headers {
        return Err(problem.failure(renewed.id));
    }
    match &renewed.oauth {
        Some(fresh) if fresh.generation != oauth.generation => Ok(Some(renewed)),
        Some(fresh) if fresh.backing_off(now) => {
            Err(fresh.unavailable(now, "refused its OAuth access token"))
        }
        _ => Ok(None),
    }
}

/// The entry after one refresh of `server` (shared by the requests of this process).
async fn renewed(
    state: &AppState,
    server: &Arc<ServerEntry>,
    oauth: &OAuthEntry,
    occasion: Occasion,
) -> Option<Arc<ServerEntry>> {
    let refreshed = oauth
        .refreshed
        .get_or_try_init(|| refresh(state, server, oauth.generation, occasion))
        .await;
    match refreshed {
        Ok(entry) => Some(Arc::clone(entry)),
        Err(error) => {
            // The token may still be valid; the next request tries again.
            tracing::warn!(server = %server.id, %error, "refreshing the upstream OAuth token failed");
            None
        }
    }
}

impl<T> OAuthEntry<T> {
    /// Whether an earlier failure's backoff is still on at `now`.
    fn backing_off(&self, now: DateTime<Utc>) -> bool {
        self.failure
            .as_ref()
            .is_some_and(|failure| failure.next_attempt_at > now)
    }

    /// `Err` when the access token has expired and the authorization server could not
    /// renew it: the message is not sent with a token the upstream would refuse.
    pub(crate) fn usable(&self, now: DateTime<Utc>) -> Result<(), UpstreamFailure> {
        let expired = self.expires_at.is_some_and(|at| at <= now);
        if expired && self.failure.is_some() {
            return Err(self.unavailable(now, "has an expired OAuth access token"));
        }
        Ok(())
    }

    /// The error an agent reads while the authorization server is unreachable.
    fn unavailable(&self, now: DateTime<Utc>, what: &str) -> UpstreamFailure {
        let name = &self.server_name;
        let Some(failure) = &self.failure else {
            return UpstreamFailure::AuthorizationUnavailable(Arc::from(format!(
                "upstream server {name:?} {what} and its authorization server is unreachable"
            )));
        };
        let next = if failure.next_attempt_at > now {
            format!(
                "the next attempt is at {}",
                failure
                    .next_attempt_at
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        } else {
            "the next call tries again".to_owned()
        };
        UpstreamFailure::AuthorizationUnavailable(Arc::from(format!(
            "upstream server {name:?} {what} and its authorization server is unreachable \
             ({}; {} failed attempts): {next}; mcpgate renews the token by itself once the \
             authorization server answers",
            failure.reason, failure.attempts
        )))
    }
}

#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the server was deleted")]
    Gone,
}

/// Refreshes the server's connection once across replicas, announces what changed and
/// answers the server as it is now.
async fn refresh(
    state: &AppState,
    server: &ServerEntry,
    seen: i64,
    occasion: Occasion,
) -> Result<Arc<ServerEntry>, RefreshError> {
    let (tenant, id) = (server.tenant, server.id);
    let refresher = Refresher {
        db: state.cache.db(),
        credentials: state.cache.credentials(),
        http: &state.http,
        actor: ACTOR,
    };
    let outcome = refreshing::refresh(refresher, tenant, id, seen, LOCK_WAIT, occasion).await?;
    if outcome.changed() {
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
