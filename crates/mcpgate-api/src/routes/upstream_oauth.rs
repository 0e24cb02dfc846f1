//! Upstream OAuth: `/servers/{id}/oauth` (status, client, disconnect-free "Connect"),
//! the public callback and mcpgate's Client ID Metadata Document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use mcpgate_store::upstream_oauth::{
    ClientRegistration, Connection, ConnectionScope, ConnectionStatus,
};
use mcpgate_store::ServerId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::access::{Access, Permission, Routes};
use crate::domain::upstream_oauth::{self as domain, CallbackQuery, EnteredClient};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams, QueryParams};
use crate::openapi::schemas::{BadRequest, ErrorBody, NotFound, UpstreamFailed};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/servers/{id}/oauth", Permission::ViewServers, show)
        .put("/servers/{id}/oauth", Permission::ManageServers, put)
        .post(
            "/servers/{id}/oauth/connect",
            Permission::ManageServers,
            connect,
        )
        // The authorization server sends the browser here: the state is the credential.
        .get("/upstream-oauth/callback", Access::Public, callback)
        .get(
            "/upstream-oauth/client-metadata.json",
            Access::Public,
            client_metadata,
        )
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(show, put, connect, callback, client_metadata))]
pub(super) struct Api;

/// A server's OAuth connection as the tenant sees it: never a token or secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionView {
    server_id: ServerId,
    /// `tenant` or `grant` (each grant its own connection: see `GET .../oauth/grants`).
    #[schema(value_type = String)]
    connection_scope: ConnectionScope,
    /// `needs_connect`, `connected` or `needs_reconnect` (of the tenant's connection).
    #[schema(value_type = String)]
    status: ConnectionStatus,
    /// Why it needs (re)connecting; for a connected server whose authorization server
    /// could not renew the token lately, that (see `refresh_failure`).
    status_reason: Option<String>,
    /// The last refresh failed for now (authorization server unreachable or 5xx): the
    /// server stays connected, and mcpgate tries again, backing off, by itself.
    refresh_failure: Option<RefreshFailureView>,
    /// The resource tokens are requested for (RFC 8707).
    resource: String,
    scope: Option<String>,
    /// The authorization server, once Connect found it.
    issuer: Option<String>,
    /// How mcpgate identified itself there: `metadata_document`, `dynamic` or `entered`.
    #[schema(value_type = Option<String>)]
    client_registration: Option<ClientRegistration>,
    client_id: Option<String>,
    has_client_secret: bool,
    access_expires_at: Option<DateTime<Utc>>,
    connected_at: Option<DateTime<Utc>>,
    connected_by: Option<String>,
    refreshed_at: Option<DateTime<Utc>>,
    /// The redirect URI to register mcpgate with, for an authorization server that
    /// needs a client entered.
    redirect_uri: String,
}

/// A refresh that failed without a refusal, and when the next one is.
#[derive(Debug, Serialize, ToSchema)]
pub struct RefreshFailureView {
    reason: String,
    /// Failed attempts in a row.
    attempts: i32,
    failed_at: DateTime<Utc>,
    /// No replica tries again before this.
    next_attempt_at: DateTime<Utc>,
}

impl ConnectionView {
    pub(crate) fn new(state: &AppState, connection: Connection) -> Self {
        let failure = connection.refresh_failure;
        Self {
            server_id: connection.server_id,
            connection_scope: connection.connection_scope,
            status: connection.status,
            status_reason: connection
                .status_reason
                .or_else(|| failure.as_ref().map(|failure| failure.describe())),
            refresh_failure: failure.map(|failure| RefreshFailureView {
                reason: failure.reason,
                attempts: failure.attempts,
                failed_at: failure.failed_at,
                next_attempt_at: failure.next_attempt_at,
            }),
            resource: connection.resource,
            scope: connection.scope,
            issuer: connection.issuer,
            client_registration: connection.client_registration,
            client_id: connection.client_id,
            has_client_secret: connection.client_secret_sealed.is_some(),
            access_expires_at: connection.access_expires_at,
            connected_at: connection.connected_at,
            connected_by: connection.connected_by,
            refreshed_at: connection.refreshed_at,
            redirect_uri: domain::redirect_uri(state),
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/servers/{id}/oauth",
    tag = "upstream-oauth",
    operation_id = "get_upstream_oauth",
    summary = "Show a server's upstream OAuth connection",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The connection", body = ConnectionView),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn show(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<ConnectionView>, ApiError> {
    let connection = domain::connection(&state, caller.tenant, id).await?;
    Ok(Json(ConnectionView::new(&state, connection)))
}

/// The server authenticates with OAuth, optionally with a client the tenant
/// registered with the authorization server itself.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OAuthBody {
    /// A pre-registered client id; without it mcpgate uses its Client ID Metadata
    /// Document or Dynamic Client Registration, whichever the server offers.
    pub(crate) client_id: Option<String>,
    /// Its secret, for a confidential client; stored sealed, never shown.
    pub(crate) client_secret: Option<String>,
    /// The scope to ask for (else the server's challenge or `scopes_supported`).
    pub(crate) scope: Option<String>,
    /// `tenant` (default): one connection for the account, made by an administrator;
    /// `grant`: each grant connects its own upstream user, and its calls use only that.
    pub(crate) connection_scope: Option<String>,
}

impl From<OAuthBody> for EnteredClient {
    fn from(body: OAuthBody) -> Self {
        EnteredClient {
            client_id: body.client_id,
            client_secret: body.client_secret,
            scope: body.scope,
            connection_scope: body.connection_scope,
        }
    }
}

#[utoipa::path(
    put,
    path = "/api/v1/servers/{id}/oauth",
    tag = "upstream-oauth",
    operation_id = "put_upstream_oauth",
    summary = "Make a server authenticate with OAuth",
    description = "Marks the server as needing Connect (forgetting tokens held), with the \
        client mcpgate should use if the tenant brings one.",
    params(("id" = ServerId, Path, description = "The server's id")),
    request_body = OAuthBody,
    responses(
        (status = 200, description = "The connection, `needs_connect`", body = ConnectionView),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn put(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
    JsonBody(body): JsonBody<OAuthBody>,
) -> Result<Json<ConnectionView>, ApiError> {
    let server = mcpgate_store::servers::server(&state.db, caller.tenant, id)
        .await
        .map_err(|e| crate::domain::not_found_as(e, "server"))?;
    let connection =
        domain::require_oauth(&state, caller.tenant, id, &server.url, None, &body.into()).await?;
    Ok(Json(ConnectionView::new(&state, connection)))
}

/// Where to send the person who connects the server.
#[derive(Debug, Serialize, ToSchema)]
struct ConnectAnswer {
    /// The authorization server's page (PKCE S256, `state`, `resource` included).
    authorization_url: String,
    /// Where the authorization server will send the browser back.
    redirect_uri: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/servers/{id}/oauth/connect",
    tag = "upstream-oauth",
    operation_id = "connect_upstream_oauth",
    summary = "Start connecting a server with OAuth",
    description = "Discovers the upstream's authorization server (Protected Resource Metadata, \
        then RFC 8414 or OpenID Connect metadata), identifies mcpgate to it and answers the \
        authorization URL. Open it in a browser; after consent the authorization server returns \
        to the callback, which stores the tokens sealed and syncs the server's tools. The request \
        is valid for ten minutes, once.",
    params(("id" = ServerId, Path, description = "The server's id")),
    responses(
        (status = 200, description = "The authorization URL", body = ConnectAnswer),
        (status = 404, response = NotFound),
        (status = 422, description = "The authorization server cannot be used (`upstream_oauth_unusable`), \
            refused mcpgate's registration (`upstream_oauth_refused`), or needs a client id entered \
            (`upstream_oauth_client_required`)", body = ErrorBody),
        (status = 502, response = UpstreamFailed),
    ),
    security(("api_key" = []))
)]
async fn connect(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<ServerId>,
) -> Result<Json<ConnectAnswer>, ApiError> {
    let authorization_url = domain::start(&state, caller.tenant, id, &caller.actor).await?;
    Ok(Json(ConnectAnswer {
        authorization_url,
        redirect_uri: domain::redirect_uri(&state),
    }))
}

/// The authorization response (RFC 6749 §4.1.2, RFC 9207).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackParams {
    state: Option<String>,
    code: Option<String>,
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/upstream-oauth/callback",
    tag = "upstream-oauth",
    operation_id = "upstream_oauth_callback",
    summary = "The authorization server's redirect back to mcpgate",
    description = "Checks the state (single use, ten minutes) and `iss`, trades the code with \
        its PKCE verifier and syncs the server; then redirects to the server's dashboard page.",
    params(CallbackParams),
    responses(
        (status = 303, description = "Connected: to the server's dashboard page"),
        (status = 400, description = "Unknown, used or expired state, a foreign `iss`, or the \
            authorization server's error", body = ErrorBody),
        (status = 422, description = "The token endpoint refused the code", body = ErrorBody),
        (status = 502, response = UpstreamFailed),
    )
)]
async fn callback(
    State(state): State<AppState>,
    QueryParams(params): QueryParams<CallbackParams>,
) -> Result<Response, ApiError> {
    let query = CallbackQuery {
        state: params.state,
        code: params.code,
        iss: params.iss,
        error: params.error,
        error_description: params.error_description,
    };
    let (_, server) = domain::finish(&state, &query).await?;
    Ok(Redirect::to(&format!("/servers/{server}?connected=1")).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/upstream-oauth/client-metadata.json",
    tag = "upstream-oauth",
    operation_id = "upstream_oauth_client_metadata",
    summary = "mcpgate's OAuth Client ID Metadata Document",
    description = "Its URL is mcpgate's client id at authorization servers that fetch client \
        metadata documents (`client_id_metadata_document_supported`).",
    responses((status = 200, description = "The document", body = Object))
)]
async fn client_metadata(State(state): State<AppState>) -> impl IntoResponse {
    let document: Value = domain::client_metadata(&state);
    (
        StatusCode::OK,
        [(axum::http::header::CACHE_CONTROL, "public, max-age=3600")],
        Json(document),
    )
}
