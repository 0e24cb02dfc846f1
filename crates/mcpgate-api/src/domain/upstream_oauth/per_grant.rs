//! Per-grant connections (a server whose OAuth setting has the `grant` scope): each
//! grant connects its own upstream user through the same authorization-code flow as the
//! tenant's connection, started from the dashboard's connect page for that grant (the
//! URL the proxy's `-32042` answer carries), and stored on the grant's own row.

use mcpgate_store::changes::Change;
use mcpgate_store::grants::{self, Grant};
use mcpgate_store::upstream_oauth::{self as store, Connection, ConnectionScope, SealedTokens};
use mcpgate_store::{GrantId, ServerId, StoreError, TenantId};

use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::state::AppState;

/// That the connection about to be started belongs where the server's setting says:
/// the tenant's for the `tenant` scope, a live grant of this server's for `grant`.
pub(super) async fn check_holder(
    state: &AppState,
    tenant: TenantId,
    connection: &Connection,
    grant: Option<GrantId>,
) -> Result<(), ApiError> {
    match (connection.connection_scope, grant) {
        (ConnectionScope::Tenant, None) => Ok(()),
        (ConnectionScope::Tenant, Some(_)) => Err(ApiError::Conflict {
            code: "upstream_oauth_tenant_scope",
            message: "this server has one OAuth connection for the whole account; it has no \
                      per-grant connections (set its oauth connection_scope to grant first)"
                .to_owned(),
        }),
        (ConnectionScope::Grant, None) => Err(ApiError::Conflict {
            code: "upstream_oauth_grant_scope",
            message: "this server connects each grant as its own upstream user: connect a \
                      grant from its connect page (/servers/{id}/grant-connect/{grant})"
                .to_owned(),
        }),
        (ConnectionScope::Grant, Some(grant)) => {
            live_grant_of(state, tenant, connection.server_id, grant)
                .await
                .map(drop)
        }
    }
}

/// The grant, if it exists, is not revoked or expired, and covers `server`.
pub async fn live_grant_of(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
) -> Result<Grant, ApiError> {
    let found = grants::grant(&state.db, tenant, grant)
        .await
        .map_err(|e| not_found_as(e, "grant"))?;
    let ended =
        found.revoked_at.is_some() || found.expires_at.is_some_and(|at| at <= chrono::Utc::now());
    if ended {
        return Err(ApiError::Conflict {
            code: "grant_revoked",
            message: "the grant is revoked or has expired: it cannot connect".to_owned(),
        });
    }
    let covers = found
        .server_ids
        .as_ref()
        .is_none_or(|ids| ids.contains(&server.as_uuid()));
    if !covers {
        return Err(ApiError::Conflict {
            code: "grant_out_of_scope",
            message: "the grant does not cover this server".to_owned(),
        });
    }
    Ok(found)
}

/// Stores a completed authorization as `grant`'s own connection and tells the proxies.
pub(super) async fn store_connected(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
    tokens: &SealedTokens,
    by: &str,
) -> Result<(), ApiError> {
    // A grant revoked while its person was at the authorization server gets nothing.
    live_grant_of(state, tenant, server, grant).await?;
    store::store_grant_connected(&state.db, tenant, server, grant, tokens, by)
        .await
        .map_err(|error| match error {
            StoreError::NotFound => ApiError::Conflict {
                code: "upstream_oauth_grant_scope",
                message: "the server no longer connects per grant".to_owned(),
            },
            other => other.into(),
        })?;
    publish(state, Change::Grant { tenant, grant }).await;
    Ok(())
}

/// What the API's own discovery of a per-grant server authenticates with: the most
/// recently connected grant's connection, or an error saying none is connected.
pub(super) async fn for_discovery(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Connection, ApiError> {
    store::latest_connected_grant(&state.db, tenant, server)
        .await?
        .ok_or_else(|| ApiError::Conflict {
            code: "upstream_oauth_not_connected",
            message: "this server connects each grant as its own upstream user and no grant \
                      is connected yet: connect one (its agents get the connect URL with their \
                      first call), then sync"
                .to_owned(),
        })
}

/// Where the person of `grant` connects its own account to `server`: the dashboard's
/// connect page (sign-in required), the URL the proxy's `-32042` answer carries.
pub fn connect_url(state: &AppState, server: ServerId, grant: GrantId) -> String {
    format!("{}/servers/{server}/grant-connect/{grant}", state.urls.api)
}

/// A server's per-grant connections with their grants' names, the most recent first.
pub async fn list(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Vec<(Connection, String)>, ApiError> {
    super::connection(state, tenant, server).await?;
    let connections = store::grant_connections(&state.db, tenant, server).await?;
    let names: std::collections::HashMap<GrantId, String> = grants::list_grants(&state.db, tenant)
        .await?
        .into_iter()
        .map(|grant| (grant.id, grant.name))
        .collect();
    Ok(connections
        .into_iter()
        .filter_map(|connection| {
            let name = names.get(&connection.grant_id?)?.clone();
            Some((connection, name))
        })
        .collect())
}

/// Deletes `grant`'s own connection to `server` (its tokens are forgotten; its next
/// call asks its person to connect again), audited.
pub async fn disconnect(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    grant: GrantId,
    actor: &str,
) -> Result<(), ApiError> {
    super::connection(state, tenant, server).await?;
    if !store::delete_grant_connection(&state.db, tenant, server, grant).await? {
        return Err(ApiError::NotFound("grant connection"));
    }
    super::audit(
        state,
        tenant,
        (server, Some(grant)),
        store::ConnectionEvent::Disconnected,
        None,
        actor,
    )
    .await;
    publish(state, Change::Grant { tenant, grant }).await;
    Ok(())
}
