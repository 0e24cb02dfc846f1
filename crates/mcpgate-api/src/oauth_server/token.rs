//! `/oauth/token`: a code exchanged for the connection's grant and first tokens, or a
//! refresh token rotated. Access tokens are grant tokens scoped to the one server, with
//! that proxy URL as their audience and a short `exp`; refresh tokens are random, stored
//! hashed, single use, and a reused one revokes the grant (the whole family).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, TimeDelta, Utc};
use mcpgate_auth::{random_token, GrantClaims, ServerScope};
use mcpgate_store::grants::{Grant, NewGrant};
use mcpgate_store::oauth_server::{self, NewConnection, Rotation, TakenCode};
use mcpgate_store::{GrantId, ServerId, TenantId};
use serde_json::json;

use super::audit::{record, FlowEvent};
use super::error::OAuthError;
use super::{pkce, resource_server, REFRESH_LIFETIME};
use crate::state::AppState;

/// The form fields of a token (or revocation) request.
pub(super) struct TokenRequest(Vec<(String, String)>);

impl TokenRequest {
    pub(super) fn parse(body: &[u8]) -> TokenRequest {
        TokenRequest(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub(super) fn field(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub(super) fn required(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.field(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is required")))
    }
}

pub(super) async fn exchange(State(state): State<AppState>, body: Bytes) -> Response {
    let request = TokenRequest::parse(&body);
    let answer = match request.field("grant_type") {
        Some("authorization_code") => redeem_code(&state, &request).await,
        Some("refresh_token") => refresh(&state, &request).await,
        _ => Err(OAuthError::UnsupportedGrantType),
    };
    match answer {
        Ok(tokens) => tokens,
        Err(error) => error.into_response(),
    }
}

async fn redeem_code(state: &AppState, request: &TokenRequest) -> Result<Response, OAuthError> {
    let secret = request.required("code")?;
    let client_id = request.required("client_id")?;
    let verifier = request.required("code_verifier")?;
    let redirect_uri = request.required("redirect_uri")?;
    let code = match oauth_server::take_code(&state.db, secret).await? {
        TakenCode::Fresh(code) => code,
        TakenCode::Spent { tenant, grant } => {
            // OAuth 2.1 §4.1.3: a code used twice may have been stolen; end what it gave.
            if let Some(grant) = grant {
                revoke_family(state, tenant, grant, "an authorization code was used again").await?;
            }
            return Err(OAuthError::InvalidGrant("this code was already used"));
        }
        TakenCode::Unknown => return Err(OAuthError::InvalidGrant("unknown code")),
    };
    let now = Utc::now();
    if code.expires_at <= now {
        return Err(OAuthError::InvalidGrant("this code has expired"));
    }
    if code.client_id != client_id {
        return Err(OAuthError::InvalidGrant(
            "this code was issued to another client",
        ));
    }
    if code.redirect_uri != redirect_uri {
        return Err(OAuthError::InvalidGrant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    if !pkce::verifies(verifier, &code.code_challenge) {
        return Err(OAuthError::InvalidGrant(
            "code_verifier does not match the code_challenge",
        ));
    }
    check_resource(state, request, code.server_id)?;
    let refresh_secret = random_token(32);
    let name: String = format!("OAuth: {}", code.client_name)
        .chars()
        .take(100)
        .collect();
    let grant = oauth_server::connect(
        &state.db,
        code.tenant_id,
        &NewConnection {
            grant: NewGrant {
                id: GrantId::new(),
                name,
                server_ids: Some(vec![code.server_id.as_uuid()]),
                policy: code.grant_policy.clone(),
                expires_at: code.grant_expires_at,
            },
            client_id: &code.client_id,
            client_name: &code.client_name,
            resource: &code.resource,
            code_secret: secret,
            refresh_secret: &refresh_secret,
            refresh_expires_at: refresh_expiry(code.grant_expires_at, now),
        },
    )
    .await?;
    let actor = format!("oauth:{}", code.client_id);
    record(
        state,
        code.tenant_id,
        FlowEvent::Issue,
        Some(code.server_id),
        Some(grant.id),
        &actor,
        format!("code exchanged; consented by {}", code.consented_by),
    )
    .await;
    tokens(
        state,
        &grant,
        code.server_id,
        &code.resource,
        &refresh_secret,
        now,
    )
}

async fn refresh(state: &AppState, request: &TokenRequest) -> Result<Response, OAuthError> {
    let old = request.required("refresh_token")?;
    let client_id = request.required("client_id")?;
    let now = Utc::now();
    let new = random_token(32);
    // The grant's expiry bounds the new token; it is read inside the rotation, so the
    // longest possible lifetime is stored and the grant check refuses it past the grant.
    let rotation =
        oauth_server::rotate_refresh_token(&state.db, client_id, old, &new, now + REFRESH_LIFETIME)
            .await?;
    match rotation {
        Rotation::Rotated { grant, connection } => {
            let server = resource_server(&state.urls, &connection.resource)
                .ok_or(OAuthError::InvalidGrant("this connection's server is gone"))?;
            check_resource(state, request, server)?;
            record(
                state,
                grant.tenant_id,
                FlowEvent::Refresh,
                Some(server),
                Some(grant.id),
                &format!("oauth:{client_id}"),
                "refresh token rotated".into(),
            )
            .await;
            tokens(state, &grant, server, &connection.resource, &new, now)
        }
        Rotation::Reused { tenant, grant } => {
            revoke_family(state, tenant, grant, "a refresh token was used again").await?;
            Err(OAuthError::InvalidGrant(
                "this refresh token was already used; the connection is revoked",
            ))
        }
        Rotation::Refused => Err(OAuthError::InvalidGrant(
            "unknown or expired refresh token, or its connection was revoked",
        )),
    }
}

/// A `resource` sent with a token request must be the one the tokens are for.
fn check_resource(
    state: &AppState,
    request: &TokenRequest,
    server: ServerId,
) -> Result<(), OAuthError> {
    match request.field("resource") {
        None | Some("") => Ok(()),
        Some(resource) if resource_server(&state.urls, resource) == Some(server) => Ok(()),
        Some(_) => Err(OAuthError::InvalidTarget(
            "resource is not the server this grant was consented for",
        )),
    }
}

fn refresh_expiry(grant_expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    let longest = now + REFRESH_LIFETIME;
    grant_expires_at.map_or(longest, |at| at.min(longest))
}

/// Revokes a connection's grant (so its access tokens end at the proxies within the
/// change message's delivery) and audits why.
async fn revoke_family(
    state: &AppState,
    tenant: TenantId,
    grant: GrantId,
    why: &str,
) -> Result<(), OAuthError> {
    let revoked = crate::domain::grants::revoke(state, tenant, grant).await?;
    let server = revoked
        .server_ids
        .as_ref()
        .and_then(|ids| ids.first())
        .map(|id| ServerId::from_uuid(*id));
    record(
        state,
        tenant,
        FlowEvent::ReuseRevoked,
        server,
        Some(grant),
        "mcpgate",
        format!("{why}: grant revoked"),
    )
    .await;
    Ok(())
}

fn tokens(
    state: &AppState,
    grant: &Grant,
    server: ServerId,
    resource: &str,
    refresh: &str,
    now: DateTime<Utc>,
) -> Result<Response, OAuthError> {
    let version = u32::try_from(grant.token_version).map_err(|_| {
        OAuthError::Internal(anyhow::anyhow!("negative token version on grant {}", grant.id).into())
    })?;
    let lifetime =
        TimeDelta::from_std(state.oauth.access_token_lifetime).unwrap_or(TimeDelta::minutes(10));
    let expires_at = grant
        .expires_at
        .map_or(now + lifetime, |at| at.min(now + lifetime));
    let claims = GrantClaims::new(
        grant.id.as_uuid(),
        grant.tenant_id.as_uuid(),
        ServerScope::Only(vec![server.as_uuid()]),
        version,
        now,
        Some(expires_at),
    )
    .for_resource(resource);
    let access = state.keys.grant_signing.issue(&claims);
    let body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": (expires_at - now).num_seconds().max(1),
        "refresh_token": refresh,
    });
    Ok((
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response())
}
