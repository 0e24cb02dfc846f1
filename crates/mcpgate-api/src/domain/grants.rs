//! Grants: agents' credentials. The token is an EdDSA JWT, shown once.

use chrono::{DateTime, Utc};
use mcpgate_auth::{GrantClaims, ServerScope};
use mcpgate_store::changes::Change;
use mcpgate_store::grants::{self, Grant, GrantUpdate, NewGrant};
use mcpgate_store::{servers, GrantId, ServerId, TenantId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::accounts::validate_name;
use crate::domain::{not_found_as, policies, publish};
use crate::error::ApiError;
use crate::state::AppState;

/// `"*"` or a list of server ids, as the API takes and shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ServersSpec {
    All(AllServers),
    Only(Vec<ServerId>),
}

/// The literal `"*"`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub enum AllServers {
    #[serde(rename = "*")]
    Star,
}

/// A grant with its token, which is shown only here.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedGrant {
    #[serde(flatten)]
    pub grant: Grant,
    /// The grant token agents present to the proxy: shown only here.
    pub token: String,
}

/// A grant to create.
#[derive(Debug)]
pub struct CreateGrant {
    pub name: String,
    pub servers: ServersSpec,
    pub expires_at: Option<DateTime<Utc>>,
    pub policy: Option<String>,
}

/// Creates a grant and issues its first token.
pub async fn create(
    state: &AppState,
    tenant: TenantId,
    request: CreateGrant,
) -> Result<IssuedGrant, ApiError> {
    let name = validate_name("/name", &request.name, 100)?;
    let server_ids = validate_servers(state, tenant, &request.servers).await?;
    validate_expiry(request.expires_at)?;
    if let Some(policy) = &request.policy {
        policies::validate(policy, "/policy")?;
    }
    let grant = grants::create_grant(
        &state.db,
        tenant,
        &NewGrant {
            id: GrantId::new(),
            name,
            server_ids,
            policy: request.policy,
            expires_at: request.expires_at,
        },
    )
    .await?;
    let token = issue(state, &grant)?;
    Ok(IssuedGrant { grant, token })
}

/// A change to a grant.
#[derive(Debug, Default)]
pub struct ChangeGrant {
    pub name: Option<String>,
    pub servers: Option<ServersSpec>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub policy: Option<Option<String>>,
    pub rotate: bool,
}

/// Applies a change; a rotation returns the new token (the old one stops working).
pub async fn change(
    state: &AppState,
    tenant: TenantId,
    id: GrantId,
    request: ChangeGrant,
) -> Result<(Grant, Option<String>), ApiError> {
    grants::grant(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "grant"))?;
    let name = request
        .name
        .as_deref()
        .map(|n| validate_name("/name", n, 100))
        .transpose()?;
    let server_ids = match &request.servers {
        Some(spec) => Some(validate_servers(state, tenant, spec).await?),
        None => None,
    };
    if let Some(expiry) = request.expires_at {
        validate_expiry(expiry)?;
    }
    if let Some(Some(policy)) = &request.policy {
        policies::validate(policy, "/policy")?;
    }
    let grant = grants::update_grant(
        &state.db,
        tenant,
        id,
        &GrantUpdate {
            name,
            server_ids,
            policy: request.policy,
            expires_at: request.expires_at,
            rotate: request.rotate,
        },
    )
    .await?;
    publish(state, Change::Grant { tenant, grant: id }).await;
    let token = request.rotate.then(|| issue(state, &grant)).transpose()?;
    Ok((grant, token))
}

/// Revokes a grant: every token of it stops working at the proxies.
pub async fn revoke(state: &AppState, tenant: TenantId, id: GrantId) -> Result<Grant, ApiError> {
    let grant = grants::revoke_grant(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "grant"))?;
    publish(state, Change::Grant { tenant, grant: id }).await;
    Ok(grant)
}

fn issue(state: &AppState, grant: &Grant) -> Result<String, ApiError> {
    let version = u32::try_from(grant.token_version).map_err(|_| {
        ApiError::Internal(anyhow::anyhow!(
            "negative token version on grant {}",
            grant.id
        ))
    })?;
    let claims = GrantClaims::new(
        grant.id.as_uuid(),
        grant.tenant_id.as_uuid(),
        match &grant.server_ids {
            None => ServerScope::All,
            Some(ids) => ServerScope::Only(ids.clone()),
        },
        version,
        Utc::now(),
        grant.expires_at,
    );
    Ok(state.keys.grant_signing.issue(&claims))
}

/// Every listed server must be the tenant's; an unknown id is a 422 naming it.
async fn validate_servers(
    state: &AppState,
    tenant: TenantId,
    spec: &ServersSpec,
) -> Result<Option<Vec<Uuid>>, ApiError> {
    match spec {
        ServersSpec::All(_) => Ok(None),
        ServersSpec::Only(ids) => {
            if ids.is_empty() {
                return Err(ApiError::invalid(
                    "/servers",
                    "list at least one server id, or \"*\" for all",
                ));
            }
            let owned = servers::list_servers(&state.db, tenant).await?;
            for (index, id) in ids.iter().enumerate() {
                if !owned.iter().any(|server| server.id == *id) {
                    return Err(ApiError::invalid(
                        &format!("/servers/{index}"),
                        format!("no server {id} in this account"),
                    ));
                }
            }
            let mut unique: Vec<Uuid> = ids.iter().map(ServerId::as_uuid).collect();
            unique.sort();
            unique.dedup();
            Ok(Some(unique))
        }
    }
}

fn validate_expiry(expires_at: Option<DateTime<Utc>>) -> Result<(), ApiError> {
    match expires_at {
        Some(at) if at <= Utc::now() => {
            Err(ApiError::invalid("/expires_at", "must be in the future"))
        }
        _ => Ok(()),
    }
}
