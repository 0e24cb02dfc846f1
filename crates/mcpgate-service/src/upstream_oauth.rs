//! Refreshing an upstream OAuth connection's tokens, shared by the proxies (a token that
//! is due, or that the upstream refused early) and the API's background refresher (a
//! token about to expire): one decision for what a refresh's outcome does to the
//! connection, whoever runs it.
//!
//! The connection's row lock ([`RefreshLock`]) and its generation serialise the
//! refreshes of every replica: one trades the refresh token, the others find the newer
//! generation and refresh nothing. A refusal (`invalid_grant`, ...) turns the server
//! "needs reconnect"; an authorization server that cannot be reached (or answers 5xx)
//! is not a refusal: the connection stays connected and the failure, with the earliest
//! next attempt (1 s doubling to 5 min, jittered), is recorded in the row, which every
//! replica respects.

use std::time::Duration;

use chrono::Utc;
use mcpgate_auth::{CredentialsKey, OAuthTokens, ServerSecret, TokensOwner};
use mcpgate_store::upstream_oauth::{
    self as store, Connection, ConnectionEvent, RefreshFailure, RefreshLock, RefreshTurn,
    SealedTokens,
};
use mcpgate_store::{GrantId, PgPool, ServerId, StoreError, TenantId};
use mcpgate_upstream::upstream_oauth::{refresh_tokens, ClientCredentials};

/// The first retry after an unavailable authorization server, doubled per failure.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const LONGEST_RETRY: Duration = Duration::from_secs(300);

/// What a refresh needs: the store, the key the tokens are sealed with, the
/// SSRF-guarded client for the authorization server, and who refreshes (audit).
#[derive(Debug, Clone, Copy)]
pub struct Refresher<'a> {
    pub db: &'a PgPool,
    pub credentials: &'a CredentialsKey,
    pub http: &'a reqwest::Client,
    pub actor: &'static str,
}

/// Why a refresh is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// The access token is due (or expired).
    Due,
    /// The upstream answered a message with 401 before the token was due.
    RefusedByUpstream,
    /// The API renews a token about to expire, before any call needs it.
    Ahead,
}

impl Occasion {
    /// For the audit row of a successful refresh.
    fn audit_reason(self) -> Option<&'static str> {
        match self {
            Occasion::Due => None,
            Occasion::RefusedByUpstream => {
                Some("the upstream refused the access token before it expired")
            }
            Occasion::Ahead => Some("renewed ahead of its expiry"),
        }
    }
}

/// How a refresh ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// New tokens are stored (a new generation).
    Stored,
    /// Another replica refreshed first, or the connection changed: nothing done here.
    AlreadyDone,
    /// The authorization server refused: the server needs reconnecting, for this reason.
    Refused(String),
    /// The authorization server failed for now: recorded, with the next attempt's time.
    Postponed(RefreshFailure),
    /// An earlier failure's backoff is not over: nothing tried.
    BackingOff(RefreshFailure),
    /// Renewing ahead of expiry, but the connection has no refresh token: nothing to do
    /// while its access token lasts.
    NotRefreshable,
}

impl Refreshed {
    /// Whether the connection's row (and so the server's revision) changed, which the
    /// caller announces to the other replicas.
    pub fn changed(&self) -> bool {
        match self {
            Refreshed::Stored | Refreshed::Refused(_) | Refreshed::Postponed(_) => true,
            Refreshed::AlreadyDone | Refreshed::BackingOff(_) | Refreshed::NotRefreshable => false,
        }
    }
}

/// Refreshes the connection of `server` if its tokens are still at generation `seen`,
/// waiting at most `wait` for another replica's refresh of it.
pub async fn refresh(
    refresher: Refresher<'_>,
    tenant: TenantId,
    server: ServerId,
    seen: i64,
    wait: Duration,
    occasion: Occasion,
) -> Result<Refreshed, StoreError> {
    refresh_for(refresher, tenant, server, None, seen, wait, occasion).await
}

/// [`refresh`] of the server's connection (`grant: None`) or of one grant's own
/// connection to a per-grant server: the same decision, on that grant's row.
pub async fn refresh_for(
    refresher: Refresher<'_>,
    tenant: TenantId,
    server: ServerId,
    grant: Option<GrantId>,
    seen: i64,
    wait: Duration,
    occasion: Occasion,
) -> Result<Refreshed, StoreError> {
    let acquired = RefreshLock::acquire_for(refresher.db, tenant, server, grant, seen, wait);
    let lock = match acquired.await? {
        RefreshTurn::Due(lock) => lock,
        RefreshTurn::AlreadyDone => return Ok(Refreshed::AlreadyDone),
        RefreshTurn::BackingOff(failure) => return Ok(Refreshed::BackingOff(failure)),
    };
    let (event, reason, refreshed) = match trade(refresher, lock.connection(), occasion).await {
        Traded::Tokens(tokens) => {
            lock.store(&tokens).await?;
            let reason = occasion.audit_reason().map(str::to_owned);
            (ConnectionEvent::Refreshed, reason, Refreshed::Stored)
        }
        Traded::Refused(reason) => {
            lock.fail(&reason).await?;
            (
                ConnectionEvent::RefreshFailed,
                Some(reason.clone()),
                Refreshed::Refused(reason),
            )
        }
        Traded::Unavailable(reason) => {
            let attempts = lock
                .connection()
                .refresh_failure
                .as_ref()
                .map_or(1, |failure| failure.attempts.saturating_add(1));
            let delay = retry_delay(attempts, rand::random::<f64>());
            let next =
                Utc::now() + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::MAX);
            let failure = lock.postpone(&reason, next).await?;
            let audited = format!(
                "{reason}; attempt {}, the next is not before {}",
                failure.attempts,
                failure
                    .next_attempt_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
            (
                ConnectionEvent::RefreshPostponed,
                Some(audited),
                Refreshed::Postponed(failure),
            )
        }
        Traded::NotRefreshable => return Ok(Refreshed::NotRefreshable),
    };
    let actor = refresher.actor;
    let reason = reason.as_deref();
    if let Err(error) =
        store::audit_for(refresher.db, tenant, server, grant, event, reason, actor).await
    {
        tracing::error!(server = %server, %error, "could not audit an upstream OAuth refresh");
    }
    Ok(refreshed)
}

/// How long to wait after the `attempts`-th failure in a row: 1 s doubling to 5 min,
/// jittered into its upper half by `jitter` (in `[0, 1)`) so replicas and servers that
/// failed together do not come back together.
pub fn retry_delay(attempts: i32, jitter: f64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
    let full = FIRST_RETRY
        .saturating_mul(1 << doublings)
        .min(LONGEST_RETRY);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

enum Traded {
    Tokens(SealedTokens),
    Refused(String),
    Unavailable(String),
    NotRefreshable,
}

/// Trades the refresh token for new tokens, sealed.
async fn trade(refresher: Refresher<'_>, connection: &Connection, occasion: Occasion) -> Traded {
    let credentials = refresher.credentials;
    let tokens = match open_tokens(credentials, connection) {
        Ok(tokens) => tokens,
        Err(reason) => return Traded::Refused(reason),
    };
    let Some(refresh_token) = tokens.refresh_token else {
        let still_valid = connection
            .access_expires_at
            .is_none_or(|expires| expires > Utc::now());
        if occasion == Occasion::Ahead && still_valid {
            return Traded::NotRefreshable;
        }
        return Traded::Refused(
            "the access token is no longer accepted and the authorization server gave no \
             refresh token"
                .to_owned(),
        );
    };
    let (Some(token_endpoint), Some(client_id)) =
        (&connection.token_endpoint, &connection.client_id)
    else {
        return Traded::Refused("the connection lacks its token endpoint or client".to_owned());
    };
    let client_secret = match &connection.client_secret_sealed {
        None => None,
        Some(sealed) => match credentials
            .open_server_secret(
                ServerSecret::OAuthClientSecret,
                connection.tenant_id.as_uuid(),
                connection.server_id.as_uuid(),
                sealed,
            )
            .ok()
            .and_then(|plain| String::from_utf8(plain).ok())
        {
            Some(secret) => Some(secret),
            None => return Traded::Refused("the client secret cannot be opened".to_owned()),
        },
    };
    let client = ClientCredentials {
        client_id: client_id.clone(),
        client_secret,
    };
    let answer = refresh_tokens(
        refresher.http,
        token_endpoint,
        &client,
        &refresh_token,
        &connection.resource,
    )
    .await;
    match answer {
        Ok(new) => {
            let sealed = credentials.seal_owned_oauth_tokens(
                tokens_owner(connection),
                &OAuthTokens {
                    access_token: new.access_token,
                    // RFC 6749 §6: no new refresh token means the old one stays valid.
                    refresh_token: new.refresh_token.or(Some(refresh_token)),
                },
            );
            Traded::Tokens(SealedTokens::issued(sealed, Utc::now(), new.expires_in))
        }
        Err(error) if error.is_refusal() => Traded::Refused(error.to_string()),
        Err(error) => Traded::Unavailable(error.to_string()),
    }
}

/// Opens a connection's sealed tokens.
pub fn open_tokens(
    credentials: &CredentialsKey,
    connection: &Connection,
) -> Result<OAuthTokens, String> {
    let sealed = connection
        .tokens_sealed
        .as_deref()
        .ok_or("a connected server has no tokens")?;
    credentials
        .open_owned_oauth_tokens(tokens_owner(connection), sealed)
        .map_err(|e| format!("the OAuth tokens cannot be opened: {e}"))
}

/// The row a connection's tokens are sealed to: the server's, or one grant's.
pub fn tokens_owner(connection: &Connection) -> TokensOwner {
    TokensOwner {
        tenant: connection.tenant_id.as_uuid(),
        server: connection.server_id.as_uuid(),
        grant: connection.grant_id.map(|grant| grant.as_uuid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_delay_doubles_from_a_second_to_five_minutes_within_its_jitter() {
        let bounds = |attempts| (retry_delay(attempts, 0.0), retry_delay(attempts, 1.0));
        assert_eq!(
            bounds(1),
            (Duration::from_millis(500), Duration::from_secs(1))
        );
        assert_eq!(bounds(2), (Duration::from_secs(1), Duration::from_secs(2)));
        assert_eq!(bounds(4), (Duration::from_secs(4), Duration::from_secs(8)));
        assert_eq!(
            bounds(9),
            (Duration::from_secs(128), Duration::from_secs(256))
        );
        assert_eq!(
            bounds(10),
            (Duration::from_secs(150), Duration::from_secs(300))
        );
        assert_eq!(
            bounds(1_000),
            (Duration::from_secs(150), Duration::from_secs(300))
        );
        let halfway = retry_delay(3, 0.5);
        assert!(halfway > Duration::from_secs(2) && halfway < Duration::from_secs(4));
    }

    #[test]
    fn a_nonsense_attempt_count_waits_like_the_first() {
        assert_eq!(retry_delay(0, 1.0), Duration::from_secs(1));
        assert_eq!(retry_delay(-5, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn only_what_changed_the_row_is_announced() {
        let failure = RefreshFailure {
            reason: "down".into(),
            attempts: 1,
            failed_at: Utc::now(),
            next_attempt_at: Utc::now(),
        };
        assert!(Refreshed::Stored.changed());
        assert!(Refreshed::Refused("invalid_grant".into()).changed());
        assert!(Refreshed::Postponed(failure.clone()).changed());
        assert!(!Refreshed::AlreadyDone.changed());
        assert!(!Refreshed::BackingOff(failure).changed());
        assert!(!Refreshed::NotRefreshable.changed());
    }
}
