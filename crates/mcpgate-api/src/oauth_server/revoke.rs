//! `/oauth/revoke`: token revocation (RFC 7009). A client hands back a refresh token or an
//! access token it no longer needs, and the whole connection ends: both kinds belong to
//! one grant (the family), and revoking the grant is what stops its access tokens at every
//! proxy within a second. A token we do not know, or that another client holds, gets the
//! same `200` and changes nothing (§2.2): the answer tells a caller nothing about tokens
//! that are not its own.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use mcpgate_store::grants;
use mcpgate_store::oauth_server::{self, Family};
use mcpgate_store::{GrantId, ServerId, TenantId};

use super::audit::{record, FlowEvent};
use super::error::OAuthError;
use super::token::TokenRequest;
use crate::state::AppState;

pub(super) async fn revoke(State(state): State<AppState>, body: Bytes) -> Response {
    let request = TokenRequest::parse(&body);
    match revoke_presented(&state, &request).await {
        // §2.2: 200 whether or not anything was revoked; nothing to cache.
        Ok(()) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")]).into_response(),
        Err(error) => error.into_response(),
    }
}

async fn revoke_presented(state: &AppState, request: &TokenRequest) -> Result<(), OAuthError> {
    let token = request.required("token")?;
    // Public clients authenticate with their client_id alone, as at the token endpoint.
    let client_id = request.required("client_id")?;
    let Some(family) = identify(state, token).await? else {
        return Ok(());
    };
    let grant = grants::grant(&state.db, family.tenant_id, family.grant_id).await?;
    let server = first_server(&grant.server_ids);
    // The client id is the caller's to choose: bounded before it reaches the audit log.
    let actor: String = format!("oauth:{client_id}").chars().take(300).collect();
    if family.client_id != client_id {
        // §2.1: the token must have been issued to the client asking. Audited, because a
        // client holding another's token is worth a look; the answer is the usual 200.
        record(
            state,
            family.tenant_id,
            FlowEvent::RevocationRefused,
            server,
            Some(family.grant_id),
            &actor,
            "revocation refused: the token was issued to another client".into(),
        )
        .await;
        return Ok(());
    }
    if grant.revoked_at.is_some() {
        return Ok(());
    }
    crate::domain::grants::revoke(state, family.tenant_id, family.grant_id).await?;
    record(
        state,
        family.tenant_id,
        FlowEvent::ClientRevoked,
        server,
        Some(family.grant_id),
        &actor,
        "the client revoked its tokens: grant revoked".into(),
    )
    .await;
    Ok(())
}

/// Which family `token` is of; `None` for what we did not issue to an OAuth client
/// (unknown, expired, a static grant token). An access token is recognised by our
/// signature, with no database; anything else is looked up as a refresh token.
/// `token_type_hint` is not needed for that, and §2.1 lets the server search beyond it,
/// so it is not read.
async fn identify(state: &AppState, token: &str) -> Result<Option<Family>, OAuthError> {
    Ok(match access_token_grant(state, token) {
        Some((tenant, grant)) => oauth_server::connection_family(&state.db, tenant, grant).await?,
        None => oauth_server::refresh_token_family(&state.db, token).await?,
    })
}

/// The grant of a live OAuth access token signed by us.
fn access_token_grant(state: &AppState, token: &str) -> Option<(TenantId, GrantId)> {
    let claims = state
        .keys
        .grant_signing
        .verify_key()
        .verify(token, Utc::now())
        .ok()?;
    // Only OAuth access tokens name a resource; a static grant token is not the
    // revocation endpoint's to end (the tenant revokes those).
    claims.resource.as_ref()?;
    Some((
        TenantId::from_uuid(claims.tenant_id),
        GrantId::from_uuid(claims.grant_id),
    ))
}

fn first_server(server_ids: &Option<Vec<uuid::Uuid>>) -> Option<ServerId> {
    server_ids
        .as_ref()
        .and_then(|ids| ids.first())
        .map(|id| ServerId::from_uuid(*id))
}
