//! Per-grant connections in the proxy: a server whose OAuth setting has the `grant`
//! scope sends, with each call, the access token of the calling grant's own connection,
//! and no other: not another grant's, not the tenant's. The tokens ride in the grant's
//! cache entry (loaded with the grant, no lookup per call) and are refreshed there the
//! same way as a server's ([`OAuthEntry`], `mcpgate_service::upstream_oauth`), on the
//! grant's row.
//!
//! A grant without a connection (or whose connection needs reconnecting) is answered
//! with MCP's URL-mode elicitation error (2025-11-25 `client/elicitation`,
//! `URLElicitationRequiredError`, -32042) carrying the dashboard's connect URL for that
//! grant and server, and a message naming the server for clients that do not support it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use http::{HeaderMap, HeaderValue};
use mcpgate_auth::CredentialsKey;
use mcpgate_service::upstream_oauth::{self as refreshing, Occasion, Refresher};
use mcpgate_store::changes::{self, Change};
use mcpgate_store::upstream_oauth::{self as store, ConnectionStatus};
use mcpgate_store::{GrantId, PgPool, ServerId, StoreError, TenantId};

use super::{with_access_token, OAuthEntry, ACTOR, LOCK_WAIT};
use crate::auth::Caller;
use crate::cache::{CredentialsProblem, GrantEntry, ServerEntry};
use crate::relay::UpstreamFailure;
use crate::state::AppState;

/// Where the dashboard's connect page for one grant and server is, under the API's
/// public URL (`mcpgate_api` serves it).
pub(crate) fn connect_path(server: ServerId, grant: GrantId) -> String {
    format!("/servers/{server}/grant-connect/{grant}")
}

/// How a server's OAuth connection is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// No OAuth, or one connection for the tenant: the server's headers say it all.
    Server,
    /// Each grant's own connection: the call's grant adds its access token.
    Grant,
}

/// A grant's own connections, by server, in its cache entry.
#[derive(Debug, Default)]
pub(crate) struct GrantConnections(HashMap<ServerId, GrantConnection>);

#[derive(Debug)]
struct GrantConnection {
    /// The access token as `Authorization`, or why there is none to send.
    authorization: Result<HeaderValue, CredentialsProblem>,
    oauth: Option<OAuthEntry<GrantEntry>>,
}

impl GrantConnections {
    /// Reads `grant`'s connections to per-grant servers and opens their tokens.
    pub(crate) async fn load(
        db: &PgPool,
        credentials: &CredentialsKey,
        tenant: TenantId,
        grant: GrantId,
    ) -> Result<Self, StoreError> {
        let connections = store::connections_of_grant(db, tenant, grant).await?;
        let mut by_server = HashMap::with_capacity(connections.len());
        for named in connections {
            let connection = &named.connection;
            let entry = match connection.status {
                ConnectionStatus::Connected => {
                    let (headers, oauth) = with_access_token(
                        credentials,
                        &named.server_name,
                        Ok(HeaderMap::new()),
                        connection,
                    );
                    let authorization = headers.and_then(|headers| {
                        headers
                            .get(http::header::AUTHORIZATION)
                            .cloned()
                            .ok_or_else(|| {
                                CredentialsProblem::Unreadable("no access token".to_owned())
                            })
                    });
                    GrantConnection {
                        authorization,
                        oauth,
                    }
                }
                ConnectionStatus::NeedsConnect | ConnectionStatus::NeedsReconnect => {
                    let reason = connection
                        .status_reason
                        .as_deref()
                        .unwrap_or("the authorization server refused it");
                    GrantConnection {
                        authorization: Err(CredentialsProblem::NotConnected(Arc::from(format!(
                            "its OAuth authorization failed ({reason})"
                        )))),
                        oauth: None,
                    }
                }
            };
            by_server.insert(connection.server_id, entry);
        }
        Ok(Self(by_server))
    }
}

/// The grant as a call to `server` should use it: its connection to the server
/// refreshed first when its token is due.
pub(crate) async fn current(
    state: &AppState,
    grant: Arc<GrantEntry>,
    server: &ServerEntry,
) -> Arc<GrantEntry> {
    if server.oauth_scope != Scope::Grant {
        return grant;
    }
    let Some(oauth) = grant
        .connections
        .0
        .get(&server.id)
        .and_then(|connection| connection.oauth.as_ref())
    else {
        return grant;
    };
    let now = Utc::now();
    if oauth.refresh_at.is_none_or(|at| at > now) || oauth.backing_off(now) {
        return grant;
    }
    renewed(state, &grant, server.id, oauth, Occasion::Due)
        .await
        .unwrap_or(grant)
}

/// After the upstream answered a call with 401: the caller's grant with a newer token
/// for the server, if a refresh got one (once per entry, as for a server's).
pub(crate) async fn after_unauthorized(
    state: &AppState,
    caller: &Caller,
) -> Result<Option<Arc<GrantEntry>>, UpstreamFailure> {
    let server = caller.server.id;
    let Some(oauth) = caller
        .grant
        .connections
        .0
        .get(&server)
        .and_then(|connection| connection.oauth.as_ref())
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if oauth.backing_off(now) {
        return Err(oauth.unavailable(now, "refused its OAuth access token"));
    }
    let Some(renewed) = renewed(
        state,
        &caller.grant,
        server,
        oauth,
        Occasion::RefusedByUpstream,
    )
    .await
    else {
        return Ok(None);
    };
    let fresh = renewed.connections.0.get(&server);
    match fresh.and_then(|connection| connection.oauth.as_ref()) {
        Some(fresh) if fresh.generation != oauth.generation => Ok(Some(renewed)),
        _ => Ok(None),
    }
}

async fn renewed(
    state: &AppState,
    grant: &Arc<GrantEntry>,
    server: ServerId,
    oauth: &OAuthEntry<GrantEntry>,
    occasion: Occasion,
) -> Option<Arc<GrantEntry>> {
    let refreshed = oauth
        .refreshed
        .get_or_try_init(|| refresh(state, grant, server, oauth.generation, occasion))
        .await;
    match refreshed {
        Ok(entry) => Some(Arc::clone(entry)),
        Err(error) => {
            tracing::warn!(%server, grant = %grant.id, %error, "refreshing a grant's upstream OAuth token failed");
            None
        }
    }
}

/// Refreshes the grant's connection to `server` once across replicas (the same
/// decision as a server's, on the grant's row), announces the grant and answers it as
/// it is now.
async fn refresh(
    state: &AppState,
    grant: &GrantEntry,
    server: ServerId,
    seen: i64,
    occasion: Occasion,
) -> Result<Arc<GrantEntry>, StoreError> {
    let (tenant, id) = (grant.tenant, grant.id);
    let refresher = Refresher {
        db: state.cache.db(),
        credentials: state.cache.credentials(),
        http: &state.http,
        actor: ACTOR,
    };
    let outcome = refreshing::refresh_for(
        refresher,
        tenant,
        server,
        Some(id),
        seen,
        LOCK_WAIT,
        occasion,
    )
    .await?;
    if outcome.changed() {
        let change = Change::Grant { tenant, grant: id };
        if let Err(error) = changes::publish(&state.redis, &change).await {
            tracing::warn!(%error, "could not announce a refresh; replicas reload at their resync");
        }
    }
    state
        .cache
        .reload_grant(tenant, id)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The `Authorization` a call of `caller` adds to its server's headers: `None` for a
/// server whose headers hold its credentials; the grant's own access token for a
/// per-grant server; else the error that lets the grant's person connect.
pub(crate) fn authorization<'a>(
    state: &AppState,
    caller: &'a Caller,
    server: &ServerEntry,
) -> Result<Option<&'a HeaderValue>, UpstreamFailure> {
    if server.oauth_scope != Scope::Grant {
        return Ok(None);
    }
    let Some(connection) = caller.grant.connections.0.get(&server.id) else {
        return Err(connect_required(state, caller, server, None));
    };
    match &connection.authorization {
        Ok(value) => {
            if let Some(oauth) = &connection.oauth {
                oauth.usable(Utc::now())?;
            }
            Ok(Some(value))
        }
        Err(CredentialsProblem::NotConnected(reason)) => {
            Err(connect_required(state, caller, server, Some(reason)))
        }
        Err(problem) => Err(problem.failure(server.id)),
    }
}

/// The answer to a grant that has no usable connection of its own: where its person
/// connects it (the dashboard, signed in as a member of the tenant).
fn connect_required(
    state: &AppState,
    caller: &Caller,
    server: &ServerEntry,
    reason: Option<&str>,
) -> UpstreamFailure {
    let name = &server.name;
    let what = match reason {
        None => "this grant is not connected to it yet".to_owned(),
        Some(reason) => format!("this grant's connection needs reconnecting: {reason}"),
    };
    let Some(api) = state.settings.authorization_server.as_deref() else {
        return UpstreamFailure::NotConnected(Arc::from(format!(
            "upstream server {name:?} signs each grant in as its own upstream user and {what}: \
             a member of this mcpgate account must connect this grant on the server's \
             dashboard page"
        )));
    };
    let url = format!(
        "{}{}",
        api.trim_end_matches('/'),
        connect_path(server.id, caller.grant_id)
    );
    UpstreamFailure::ConnectRequired {
        message: format!(
            "upstream server {name:?} signs each grant in as its own upstream user and {what}: \
             open {url} (signed in to mcpgate) to connect it, then call again"
        ),
        url,
    }
}
