//! Connecting an OAuth-protected upstream (issue 15, item 2): mcpgate is the OAuth
//! client. "Connect" finds the server's authorization server, identifies mcpgate to it
//! (a client the tenant entered, else mcpgate's Client ID Metadata Document when the
//! server fetches those, else Dynamic Client Registration), and sends the person there
//! with PKCE S256, a `resource` and a single-use `state`; the callback checks the state
//! and `iss`, trades the code, seals the tokens and syncs the server's tools.
//!
//! The proxies refresh the tokens (`mcpgate_proxy::upstream_oauth`); both sides seal
//! with [`mcpgate_auth::CredentialsKey`] and serialise on the connection's row lock.

use std::time::Duration;

use chrono::Utc;
use mcpgate_auth::{OAuthTokens, ServerSecret};
use mcpgate_store::changes::Change;
use mcpgate_store::upstream_oauth::{
    self as store, AuthorizationServerRecord, ClientRegistration, Connection, ConnectionEvent,
    ConnectionScope, ConnectionStatus, Flow, NewConnection, SealedTokens,
};
use mcpgate_store::{servers, GrantId, ServerId, TenantId};
use mcpgate_upstream::upstream_oauth::{
    self as oauth, AuthorizationRequest, AuthorizationServer, BearerChallenge, ClientCredentials,
    OAuthError, Pkce, TokenSet,
};
use mcpgate_upstream::DiscoveryError;
use serde_json::{json, Value};

use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::state::AppState;

pub mod per_grant;

/// Where the authorization server sends the browser back, under the public API URL.
pub const CALLBACK_PATH: &str = "/api/v1/upstream-oauth/callback";
/// mcpgate's Client ID Metadata Document, under the public API URL.
pub const CLIENT_METADATA_PATH: &str = "/api/v1/upstream-oauth/client-metadata.json";
/// How long a person has between "Connect" and the callback.
const FLOW_LIFETIME: Duration = Duration::from_secs(600);
/// The name mcpgate registers under.
const CLIENT_NAME: &str = "mcpgate";

/// The exact redirect URI mcpgate registers and sends.
pub fn redirect_uri(state: &AppState) -> String {
    format!("{}{CALLBACK_PATH}", state.urls.api)
}

/// The URL that is mcpgate's client id where Client ID Metadata Documents are used.
pub fn client_metadata_url(state: &AppState) -> String {
    format!("{}{CLIENT_METADATA_PATH}", state.urls.api)
}

/// mcpgate's Client ID Metadata Document: a public client whose only redirect URI is
/// the callback (draft-ietf-oauth-client-id-metadata-document).
pub fn client_metadata(state: &AppState) -> Value {
    json!({
        "client_id": client_metadata_url(state),
        "client_name": CLIENT_NAME,
        "client_uri": state.urls.api,
        "redirect_uris": [redirect_uri(state)],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    })
}

/// A client the tenant registered with the authorization server itself.
#[derive(Debug, Clone, Default)]
pub struct EnteredClient {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    /// `tenant` (the default) or `grant`: whose upstream user calls act as.
    pub connection_scope: Option<String>,
}

/// Records that `server` needs OAuth, with what the challenge said.
pub async fn require_oauth(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    url: &str,
    challenge: Option<&BearerChallenge>,
    entered: &EnteredClient,
) -> Result<Connection, ApiError> {
    let client_id = validated_text("/oauth/client_id", entered.client_id.as_deref(), 2048)?;
    let client_secret = validated_text(
        "/oauth/client_secret",
        entered.client_secret.as_deref(),
        4096,
    )?;
    let scope = validated_text("/oauth/scope", entered.scope.as_deref(), 1024)?;
    let connection_scope = match entered.connection_scope.as_deref() {
        None => ConnectionScope::Tenant,
        Some(text) => ConnectionScope::parse(text).ok_or_else(|| {
            ApiError::invalid(
                "/oauth/connection_scope",
                "must be tenant (one connection for the account) or grant (each grant its own)",
            )
        })?,
    };
    if client_secret.is_some() && client_id.is_none() {
        return Err(ApiError::invalid(
            "/oauth/client_secret",
            "a client secret needs its client_id",
        ));
    }
    let sealed_secret = client_secret.map(|secret| {
        state.keys.credentials.seal_server_secret(
            ServerSecret::OAuthClientSecret,
            tenant.as_uuid(),
            server.as_uuid(),
            secret.as_bytes(),
        )
    });
    let connection = store::create_connection(
        &state.db,
        tenant,
        server,
        &NewConnection {
            resource: url.to_owned(),
            resource_metadata_url: challenge.and_then(|c| c.resource_metadata.clone()),
            scope: scope.or_else(|| challenge.and_then(|c| c.scope.clone())),
            client_id,
            client_secret_sealed: sealed_secret,
            connection_scope,
        },
    )
    .await?;
    publish(state, Change::Server { tenant, server }).await;
    Ok(connection)
}

fn validated_text(path: &str, value: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            path,
            format!("must be at most {max} characters, without control characters"),
        ));
    }
    Ok(Some(value.to_owned()))
}

/// The server's connection, or 404 when the server does not use OAuth.
pub async fn connection(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Connection, ApiError> {
    servers::server(&state.db, tenant, server)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    store::connection(&state.db, tenant, server)
        .await?
        .ok_or(ApiError::NotFound("upstream OAuth connection"))
}

/// Starts "Connect": the URL to send the person to.
pub async fn start(
    state: &AppState,
    tenant: TenantId,
    server_id: ServerId,
    actor: &str,
) -> Result<String, ApiError> {
    start_for(state, tenant, server_id, None, actor).await
}

/// [`start`] for the server's connection (`grant: None`, a `tenant`-scope server) or
/// for one grant's own (a `grant`-scope server): the same flow, the tokens stored for
/// that grant.
pub async fn start_for(
    state: &AppState,
    tenant: TenantId,
    server_id: ServerId,
    grant: Option<GrantId>,
    actor: &str,
) -> Result<String, ApiError> {
    let server = servers::server(&state.db, tenant, server_id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let connection = connection(state, tenant, server_id).await?;
    per_grant::check_holder(state, tenant, &connection, grant).await?;
    let http = authorization_client(state)?;
    let challenge = BearerChallenge {
        resource_metadata: connection.resource_metadata_url.clone(),
        scope: connection.scope.clone(),
    };
    let (resource, authorization) = oauth::discover_authorization(&http, &server.url, &challenge)
        .await
        .map_err(oauth_failed)?;
    let redirect = redirect_uri(state);
    let (registration, credentials) =
        identify(state, &http, &connection, &authorization, &redirect).await?;
    let client_secret_sealed = credentials.client_secret.as_ref().map(|secret| {
        state.keys.credentials.seal_server_secret(
            ServerSecret::OAuthClientSecret,
            tenant.as_uuid(),
            server_id.as_uuid(),
            secret.as_bytes(),
        )
    });
    store::set_authorization_server(
        &state.db,
        tenant,
        server_id,
        &AuthorizationServerRecord {
            resource: resource.resource.clone(),
            resource_metadata_url: resource.metadata_url.clone(),
            scope: resource.scope.clone(),
            issuer: authorization.issuer.clone(),
            authorization_endpoint: authorization.authorization_endpoint.clone(),
            token_endpoint: authorization.token_endpoint.clone(),
            iss_parameter_supported: authorization.iss_parameter_supported,
            client_registration: registration,
            client_id: credentials.client_id.clone(),
            client_secret_sealed,
        },
    )
    .await?;

    let pkce = Pkce::generate();
    // The state names its tenant, so the callback finds the request by (tenant, hash).
    let state_value = format!("{}.{}", tenant.as_uuid().simple(), oauth::random_state());
    let flow = Flow {
        tenant_id: tenant,
        server_id,
        code_verifier_sealed: state.keys.credentials.seal_server_secret(
            ServerSecret::OAuthCodeVerifier,
            tenant.as_uuid(),
            server_id.as_uuid(),
            pkce.verifier.as_bytes(),
        ),
        issuer: authorization.issuer.clone(),
        redirect_uri: redirect.clone(),
        started_by: actor.to_owned(),
        grant_id: grant,
    };
    let expires_at = Utc::now()
        + chrono::Duration::from_std(FLOW_LIFETIME).expect("ten minutes fit a chrono duration");
    store::insert_flow(
        &state.db,
        tenant,
        &oauth::state_hash(&state_value),
        &flow,
        expires_at,
    )
    .await?;
    let url = oauth::authorization_url(&AuthorizationRequest {
        authorization_endpoint: &authorization.authorization_endpoint,
        client_id: &credentials.client_id,
        redirect_uri: &redirect,
        state: &state_value,
        code_challenge: &pkce.challenge,
        resource: &resource.resource,
        scope: resource.scope.as_deref(),
    })
    .map_err(oauth_failed)?;
    let reason = format!(
        "authorization server {} ({})",
        authorization.issuer,
        registration.as_str()
    );
    audit(
        state,
        tenant,
        (server_id, grant),
        ConnectionEvent::ConnectStarted,
        Some(&reason),
        actor,
    )
    .await;
    Ok(url)
}

/// Who mcpgate is at this authorization server, in the MCP order: a client the tenant
/// entered; one registered there before (same issuer); the metadata document when the
/// server fetches them and the document is on https; Dynamic Client Registration.
async fn identify(
    state: &AppState,
    http: &reqwest::Client,
    connection: &Connection,
    authorization: &AuthorizationServer,
    redirect: &str,
) -> Result<(ClientRegistration, ClientCredentials), ApiError> {
    let stored = |connection: &Connection| -> Result<Option<ClientCredentials>, ApiError> {
        let Some(client_id) = connection.client_id.clone() else {
            return Ok(None);
        };
        let client_secret = connection
            .client_secret_sealed
            .as_deref()
            .map(|sealed| open_secret(state, connection, ServerSecret::OAuthClientSecret, sealed))
            .transpose()?;
        Ok(Some(ClientCredentials {
            client_id,
            client_secret,
        }))
    };
    match connection.client_registration {
        Some(ClientRegistration::Entered) => {
            if let Some(credentials) = stored(connection)? {
                return Ok((ClientRegistration::Entered, credentials));
            }
        }
        // Registered credentials belong to the issuer that issued them.
        Some(ClientRegistration::Dynamic)
            if connection.issuer.as_deref() == Some(authorization.issuer.as_str()) =>
        {
            if let Some(credentials) = stored(connection)? {
                return Ok((ClientRegistration::Dynamic, credentials));
            }
        }
        _ => {}
    }
    let document = client_metadata_url(state);
    if authorization.client_id_metadata_document_supported && document.starts_with("https://") {
        return Ok((
            ClientRegistration::MetadataDocument,
            ClientCredentials {
                client_id: document,
                client_secret: None,
            },
        ));
    }
    let Some(endpoint) = &authorization.registration_endpoint else {
        return Err(ApiError::Validation {
            code: "upstream_oauth_client_required",
            message: format!(
                "the authorization server {} neither fetches client metadata documents from an \
                 https URL nor offers dynamic registration: register mcpgate there with the \
                 redirect URI {redirect} and enter its client id (PUT .../oauth)",
                authorization.issuer
            ),
            details: json!([{ "path": "/oauth/client_id", "message": "required by this authorization server" }]),
        });
    };
    let credentials = oauth::register_client(
        http,
        endpoint,
        CLIENT_NAME,
        redirect,
        connection.scope.as_deref(),
    )
    .await
    .map_err(oauth_failed)?;
    Ok((ClientRegistration::Dynamic, credentials))
}

/// What the authorization server sent the browser back with.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct CallbackQuery {
    pub state: Option<String>,
    pub code: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Completes "Connect": checks the state (single use), `iss` (RFC 9207), trades the
/// code, seals the tokens and syncs the tools. Returns the server.
pub async fn finish(
    state: &AppState,
    query: &CallbackQuery,
) -> Result<(TenantId, ServerId), ApiError> {
    let unknown = || {
        ApiError::BadRequest(
            "this authorization response is unknown, was already used or expired: start Connect again"
                .to_owned(),
        )
    };
    let state_value = query.state.as_deref().ok_or_else(unknown)?;
    let tenant = state_value
        .split_once('.')
        .and_then(|(tenant, _)| uuid::Uuid::parse_str(tenant).ok())
        .map(TenantId::from_uuid)
        .ok_or_else(unknown)?;
    let flow = store::take_flow(&state.db, tenant, &oauth::state_hash(state_value))
        .await?
        .ok_or_else(unknown)?;
    let server = flow.server_id;
    let result = complete(state, tenant, &flow, query).await;
    match &result {
        Ok(()) => {
            audit(
                state,
                tenant,
                (server, flow.grant_id),
                ConnectionEvent::Connected,
                None,
                &flow.started_by,
            )
            .await;
        }
        Err(error) => {
            let reason = error.to_string();
            audit(
                state,
                tenant,
                (server, flow.grant_id),
                ConnectionEvent::ConnectFailed,
                Some(&reason),
                &flow.started_by,
            )
            .await;
        }
    }
    result?;
    if flow.grant_id.is_none() {
        publish(state, Change::Server { tenant, server }).await;
    }
    // The tools come now that mcpgate can authenticate; a failed sync leaves the
    // connection connected and says why (a re-sync retries).
    if let Err(error) = crate::domain::servers::sync(state, tenant, server).await {
        tracing::warn!(%error, server = %server, "sync after connecting failed");
    }
    Ok((tenant, server))
}

async fn complete(
    state: &AppState,
    tenant: TenantId,
    flow: &Flow,
    query: &CallbackQuery,
) -> Result<(), ApiError> {
    let connection = store::connection(&state.db, tenant, flow.server_id)
        .await?
        .ok_or(ApiError::NotFound("upstream OAuth connection"))?;
    // RFC 9207 §2.4 as MCP tabulates it: a present iss must be the recorded issuer; an
    // absent one is refused when the server said it sends it.
    match query.iss.as_deref() {
        Some(iss) if iss != flow.issuer => {
            return Err(ApiError::BadRequest(format!(
                "the authorization response came from {iss:?}, not the authorization server \
                 the request went to ({:?}); it was ignored",
                flow.issuer
            )));
        }
        None if connection.iss_parameter_supported => {
            return Err(ApiError::BadRequest(
                "the authorization response lacks the iss its server promises (RFC 9207); it was ignored"
                    .to_owned(),
            ));
        }
        _ => {}
    }
    if let Some(error) = &query.error {
        return Err(ApiError::BadRequest(format!(
            "the authorization server answered {error}{}",
            query
                .error_description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )));
    }
    let code = query
        .code
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("the authorization response has no code".to_owned()))?;
    let verifier = open_secret(
        state,
        &connection,
        ServerSecret::OAuthCodeVerifier,
        &flow.code_verifier_sealed,
    )?;
    let credentials = credentials(state, &connection)?;
    let token_endpoint = connection.token_endpoint.as_deref().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "a connection in flight has no token endpoint"
        ))
    })?;
    let tokens = oauth::exchange_code(
        &authorization_client(state)?,
        token_endpoint,
        &credentials,
        code,
        &verifier,
        &flow.redirect_uri,
        &connection.resource,
    )
    .await
    .map_err(oauth_failed)?;
    let sealed = seal_tokens_for(state, &connection, flow.grant_id, &tokens);
    match flow.grant_id {
        None => {
            let by = &flow.started_by;
            store::store_connected(&state.db, tenant, flow.server_id, &sealed, by).await?;
        }
        Some(grant) => {
            let by = &flow.started_by;
            per_grant::store_connected(state, tenant, flow.server_id, grant, &sealed, by).await?;
        }
    }
    Ok(())
}

/// Seals a code's token answer for the server's connection or `grant`'s own.
fn seal_tokens_for(
    state: &AppState,
    connection: &Connection,
    grant: Option<GrantId>,
    tokens: &TokenSet,
) -> SealedTokens {
    let owner = mcpgate_auth::TokensOwner {
        tenant: connection.tenant_id.as_uuid(),
        server: connection.server_id.as_uuid(),
        grant: grant.map(|grant| grant.as_uuid()),
    };
    let sealed = state.keys.credentials.seal_owned_oauth_tokens(
        owner,
        &OAuthTokens {
            access_token: tokens.access_token.clone(),
            refresh_token: tokens.refresh_token.clone(),
        },
    );
    SealedTokens::issued(sealed, Utc::now(), tokens.expires_in)
}

/// The `Authorization` header discovery sends for a connected server; `None` for a
/// server without OAuth; an error naming the status for one that is not connected.
pub async fn discovery_header(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Option<(String, String)>, ApiError> {
    let Some(mut connection) = store::connection(&state.db, tenant, server).await? else {
        return Ok(None);
    };
    if connection.connection_scope == ConnectionScope::Grant {
        connection = per_grant::for_discovery(state, tenant, server).await?;
    }
    match (connection.status, connection.tokens_sealed.as_deref()) {
        (ConnectionStatus::Connected, Some(sealed)) => {
            let owner = mcpgate_service::upstream_oauth::tokens_owner(&connection);
            let tokens = state
                .keys
                .credentials
                .open_owned_oauth_tokens(owner, sealed)
                .map_err(|e| {
                    ApiError::Internal(anyhow::anyhow!(
                        "cannot open the server's OAuth tokens (was MCPGATE_SECRET_KEY changed?): {e}"
                    ))
                })?;
            Ok(Some((
                "authorization".to_owned(),
                format!("Bearer {}", tokens.access_token),
            )))
        }
        (status, _) => Err(ApiError::Conflict {
            code: "upstream_oauth_not_connected",
            message: format!(
                "this server authenticates with OAuth and its connection is {}: Connect it first{}",
                status.as_str(),
                connection
                    .status_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
        }),
    }
}

fn credentials(state: &AppState, connection: &Connection) -> Result<ClientCredentials, ApiError> {
    let client_id = connection.client_id.clone().ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("a connection in flight has no client id"))
    })?;
    let client_secret = connection
        .client_secret_sealed
        .as_deref()
        .map(|sealed| open_secret(state, connection, ServerSecret::OAuthClientSecret, sealed))
        .transpose()?;
    Ok(ClientCredentials {
        client_id,
        client_secret,
    })
}

fn open_secret(
    state: &AppState,
    connection: &Connection,
    kind: ServerSecret,
    sealed: &[u8],
) -> Result<String, ApiError> {
    let plain = state
        .keys
        .credentials
        .open_server_secret(
            kind,
            connection.tenant_id.as_uuid(),
            connection.server_id.as_uuid(),
            sealed,
        )
        .map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "cannot open a sealed OAuth secret (was MCPGATE_SECRET_KEY changed?): {e}"
            ))
        })?;
    String::from_utf8(plain).map_err(|e| ApiError::Internal(e.into()))
}

/// The SSRF-guarded client for authorization servers.
pub(crate) fn authorization_client(state: &AppState) -> Result<reqwest::Client, ApiError> {
    mcpgate_upstream::upstream_client(state.upstreams.clone(), "upstream-oauth")
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("mcpgate/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ApiError::Internal(e.into()))
}

/// An OAuth failure as the tenant sees it.
fn oauth_failed(error: OAuthError) -> ApiError {
    match error {
        OAuthError::Unavailable(cause) => ApiError::Upstream(DiscoveryError::Unreachable {
            address: "the upstream's authorization server".to_owned(),
            cause,
        }),
        OAuthError::Refused { .. } => ApiError::Validation {
            code: "upstream_oauth_refused",
            message: error.to_string(),
            details: json!([{ "path": "/oauth", "message": error.to_string() }]),
        },
        OAuthError::Metadata { .. } | OAuthError::Unsuitable { .. } => ApiError::Validation {
            code: "upstream_oauth_unusable",
            message: error.to_string(),
            details: json!([{ "path": "/oauth", "message": error.to_string() }]),
        },
    }
}

/// Audits an event of the server's connection, or of one grant's own.
async fn audit(
    state: &AppState,
    tenant: TenantId,
    (server, grant): (ServerId, Option<GrantId>),
    event: ConnectionEvent,
    reason: Option<&str>,
    actor: &str,
) {
    let audited = store::audit_for(&state.db, tenant, server, grant, event, reason, actor);
    if let Err(error) = audited.await {
        tracing::error!(%error, server = %server, event = event.method(), "could not audit an upstream OAuth event");
    }
}
