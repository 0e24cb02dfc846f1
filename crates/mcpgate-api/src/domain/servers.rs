//! Registering upstream MCP servers: discover their tools, classify them, keep
//! their credentials sealed, and tell the proxies.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use mcpgate_catalog::{classify, fingerprint, ToolDefinition};
use mcpgate_store::changes::Change;
use mcpgate_store::servers::{
    self, DiscoveredServer, DiscoveredTool, NewServer, Server, ServerUpdate, SyncReport,
    ToolConfidence,
};
use mcpgate_store::{ServerId, TenantId};
use mcpgate_upstream::{
    discover, BlockReason, Discovery, DiscoveryError, DiscoveryOptions, Transport,
};
use serde_json::Value;

use crate::domain::accounts::validate_name;
use crate::domain::upstream_oauth::{discovery_header, require_oauth, EnteredClient};
use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::state::AppState;

/// Headers a tenant may not set for its upstream: the proxy owns them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "accept",
    "connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-connection",
    "mcp-session-id",
    "mcp-protocol-version",
    "mcp-method",
    "mcp-name",
    "mcp-gate-hop",
    "last-event-id",
];

/// Prefixes of headers a tenant may not set: `Mcp-Param-*` mirror the arguments of the
/// call being made (MCP 2026-07-28), which the proxy decided on.
const RESERVED_HEADER_PREFIXES: &[&str] = &["mcp-param-"];

/// A server to register.
#[derive(Debug)]
pub struct RegisterServer {
    pub name: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    /// The tenant says the server authenticates with OAuth (and may bring a client).
    /// Without it, a server that answers 401 with a `Bearer` challenge naming its
    /// Protected Resource Metadata (`resource_metadata`, as MCP's authorization
    /// prescribes) and no headers were given is registered as needing OAuth too; a bare
    /// `Bearer` challenge is a server that wants a static credential (422).
    pub oauth: Option<EnteredClient>,
}

/// Validates, discovers, classifies and stores a new server.
pub async fn register(
    state: &AppState,
    tenant: TenantId,
    request: RegisterServer,
) -> Result<Server, ApiError> {
    let name = validate_name("/name", &request.name, 100)?;
    let url = validate_url("/url", &request.url)?;
    refuse_own_address(state, &url)?;
    let headers = validate_headers(&request.headers)?;
    let (discovery, oauth) = match discover(&url, &headers, discovery_options(state)).await {
        Ok(discovery) => (Some(discovery), request.oauth.map(|client| (None, client))),
        // An OAuth-protected server: registered without tools until it is connected.
        Err(DiscoveryError::Unauthorized {
            status: 401,
            challenge: Some(challenge),
            ..
        }) if (headers.is_empty() && challenge.resource_metadata.is_some())
            || request.oauth.is_some() =>
        {
            (
                None,
                Some((Some(challenge), request.oauth.unwrap_or_default())),
            )
        }
        Err(error) if request.oauth.is_none() => return Err(error.into()),
        Err(DiscoveryError::Unauthorized { .. }) => {
            (None, request.oauth.map(|client| (None, client)))
        }
        Err(error) => return Err(error.into()),
    };
    let (discovered, tools) = match &discovery {
        Some(discovery) => catalogue(discovery),
        None => (
            DiscoveredServer {
                transport: "streamable_http".to_owned(),
                server_info: None,
                protocol_version: None,
                instructions: None,
            },
            Vec::new(),
        ),
    };

    let id = ServerId::new();
    let sealed = seal_headers(state, tenant, id, &headers)?;
    let server = servers::create_server(
        &state.db,
        tenant,
        &NewServer {
            id,
            name,
            url,
            headers_sealed: sealed,
            header_names: headers.iter().map(|(name, _)| name.clone()).collect(),
            discovered,
        },
        &tools,
    )
    .await?;
    if let Some((challenge, client)) = oauth {
        require_oauth(state, tenant, id, &server.url, challenge.as_ref(), &client).await?;
    }
    publish(state, Change::Server { tenant, server: id }).await;
    Ok(server)
}

/// Discovers the server's tools again and records what changed.
pub async fn sync(
    state: &AppState,
    tenant: TenantId,
    id: ServerId,
) -> Result<SyncReport, ApiError> {
    let server = servers::server(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let headers = open_headers(state, tenant, id).await?;
    let discovery = discover(&server.url, &headers, discovery_options(state)).await?;
    let (discovered, tools) = catalogue(&discovery);
    let report = servers::sync_server(&state.db, tenant, id, &discovered, &tools).await?;
    publish(state, Change::Server { tenant, server: id }).await;
    Ok(report)
}

/// A change to a server. A new URL or new headers are tried (discovery) before
/// they are saved, so a typo cannot break a working server.
#[derive(Debug, Default)]
pub struct UpdateServer {
    pub name: Option<String>,
    pub url: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub block_changed_tools: Option<bool>,
}

/// Applies an update; re-discovers when the URL or headers change.
pub async fn update(
    state: &AppState,
    tenant: TenantId,
    id: ServerId,
    request: UpdateServer,
) -> Result<Server, ApiError> {
    let current = servers::server(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let name = request
        .name
        .as_deref()
        .map(|n| validate_name("/name", n, 100))
        .transpose()?;
    let url = request
        .url
        .as_deref()
        .map(|u| validate_url("/url", u))
        .transpose()?;
    if let Some(url) = &url {
        refuse_own_address(state, url)?;
    }
    let headers = request.headers.as_ref().map(validate_headers).transpose()?;

    let mut update = ServerUpdate {
        name,
        url: url.clone(),
        headers: None,
        block_changed_tools: request.block_changed_tools,
    };
    if url.is_some() || headers.is_some() {
        let headers = match headers {
            Some(headers) => headers,
            None => open_headers(state, tenant, id).await?,
        };
        let target = url.as_deref().unwrap_or(&current.url);
        let discovery = discover(target, &headers, discovery_options(state)).await?;
        let (discovered, tools) = catalogue(&discovery);
        if request.headers.is_some() {
            update.headers = Some((
                seal_headers(state, tenant, id, &headers)?,
                headers.iter().map(|(name, _)| name.clone()).collect(),
            ));
        }
        let server = servers::update_server(&state.db, tenant, id, &update).await?;
        servers::sync_server(&state.db, tenant, id, &discovered, &tools).await?;
        publish(state, Change::Server { tenant, server: id }).await;
        return Ok(server);
    }
    let server = servers::update_server(&state.db, tenant, id, &update).await?;
    publish(state, Change::Server { tenant, server: id }).await;
    Ok(server)
}

/// Deletes a server, its tools and its policies.
pub async fn delete(state: &AppState, tenant: TenantId, id: ServerId) -> Result<(), ApiError> {
    servers::delete_server(&state.db, tenant, id)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    publish(state, Change::ServerDeleted { tenant, server: id }).await;
    Ok(())
}

fn discovery_options(state: &AppState) -> DiscoveryOptions {
    DiscoveryOptions {
        address_policy: state.upstreams.clone(),
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(20),
        ..DiscoveryOptions::default()
    }
}

/// Classifies and fingerprints every discovered tool.
fn catalogue(discovery: &Discovery) -> (DiscoveredServer, Vec<DiscoveredTool>) {
    let server = DiscoveredServer {
        transport: match discovery.transport {
            Transport::StreamableHttp => "streamable_http",
            Transport::LegacySse => "sse",
        }
        .to_owned(),
        server_info: Some(discovery.server_info.clone()),
        protocol_version: Some(discovery.protocol_version.clone()),
        instructions: discovery.instructions.clone(),
    };
    let mut tools: Vec<DiscoveredTool> = Vec::with_capacity(discovery.tools.len());
    for tool in &discovery.tools {
        if tools.iter().any(|t| t.name == tool.name) {
            tracing::warn!(tool = %tool.name, "upstream lists a tool twice; keeping the first");
            continue;
        }
        let Ok(definition) = serde_json::from_str::<Value>(tool.json.get()) else {
            continue;
        };
        let Ok(parsed) = ToolDefinition::from_value(&definition) else {
            tracing::warn!(tool = %tool.name, "skipping a tool whose definition is unreadable");
            continue;
        };
        let assessment = classify(&parsed);
        tools.push(DiscoveredTool {
            name: tool.name.clone(),
            category: assessment.classification.category.as_str().to_owned(),
            risk: assessment.classification.risk.as_str().to_owned(),
            evidence: serde_json::to_value(&assessment.evidence)
                .unwrap_or(Value::Array(Vec::new())),
            fingerprint: fingerprint(&parsed).as_str().to_owned(),
            confidence: Some(ToolConfidence {
                level: assessment.confidence.level.as_str().to_owned(),
                reasons: assessment.confidence.reasons,
            }),
            definition,
        });
    }
    (server, tools)
}

/// An absolute http(s) URL with a host and no credentials in it (credentials
/// belong in headers, where they are sealed).
fn validate_url(path: &str, url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    let acceptable = url.len() <= 2048
        && url::Url::parse(url).is_ok_and(|parsed| {
            matches!(parsed.scheme(), "http" | "https")
                && parsed.host_str().is_some_and(|host| !host.is_empty())
                && parsed.username().is_empty()
                && parsed.password().is_none()
        });
    if acceptable {
        Ok(url.to_owned())
    } else {
        Err(ApiError::invalid(
            path,
            "must be an absolute http:// or https:// URL of at most 2048 characters, without credentials",
        ))
    }
}

/// A URL that leads to this deployment's own proxy or API would loop: every call would
/// come back into mcpgate. Refused before discovery tries it (which would refuse it too,
/// as would the proxy's client when connecting).
fn refuse_own_address(state: &AppState, url: &str) -> Result<(), ApiError> {
    let parsed = url::Url::parse(url).map_err(|_| ApiError::invalid("/url", "is not a URL"))?;
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return Ok(());
    };
    match state.upstreams.check_host(host, port) {
        Some(BlockReason::OwnAddress) => Err(own_address_refused(&format!("{host}:{port}"))),
        _ => Ok(()),
    }
}

/// The 422 for an upstream URL that is mcpgate itself.
pub(crate) fn own_address_refused(address: &str) -> ApiError {
    let message = format!(
        "{address} is this mcpgate deployment's own proxy or API: an upstream there would \
         send every call back into mcpgate; use the MCP server's own URL"
    );
    ApiError::Validation {
        code: "upstream_is_mcpgate",
        details: serde_json::json!([{ "path": "/url", "message": message }]),
        message: format!("/url: {message}"),
    }
}

fn validate_headers(headers: &BTreeMap<String, String>) -> Result<Vec<(String, String)>, ApiError> {
    if headers.len() > 20 {
        return Err(ApiError::invalid("/headers", "at most 20 headers"));
    }
    headers
        .iter()
        .map(|(name, value)| {
            let path = format!("/headers/{name}");
            let valid_name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ApiError::invalid(&path, "is not a valid HTTP header name"))?;
            let reserved = RESERVED_HEADERS.contains(&valid_name.as_str())
                || RESERVED_HEADER_PREFIXES
                    .iter()
                    .any(|prefix| valid_name.as_str().starts_with(prefix));
            if reserved {
                return Err(ApiError::invalid(
                    &path,
                    "is set by mcpgate itself and cannot be configured",
                ));
            }
            HeaderValue::from_str(value).map_err(|_| {
                ApiError::invalid(&path, "value must be visible ASCII without line breaks")
            })?;
            Ok((valid_name.as_str().to_owned(), value.clone()))
        })
        .collect()
}

fn seal_headers(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    headers: &[(String, String)],
) -> Result<Option<Vec<u8>>, ApiError> {
    if headers.is_empty() {
        return Ok(None);
    }
    let map: BTreeMap<&str, &str> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let plaintext = serde_json::to_vec(&map).map_err(|e| ApiError::Internal(e.into()))?;
    // Bound to the server's row; the proxy opens it with the same contract.
    Ok(Some(state.keys.credentials.seal_server_headers(
        tenant.as_uuid(),
        server.as_uuid(),
        &plaintext,
    )))
}

async fn open_headers(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut headers = stored_headers(state, tenant, server).await?;
    // A connected OAuth server's access token replaces any stored Authorization.
    if let Some(bearer) = discovery_header(state, tenant, server).await? {
        headers.retain(|(name, _)| name != "authorization");
        headers.push(bearer);
    }
    Ok(headers)
}

async fn stored_headers(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Vec<(String, String)>, ApiError> {
    let Some(sealed) = servers::server_headers_sealed(&state.db, tenant, server).await? else {
        return Ok(Vec::new());
    };
    let plaintext = state
        .keys
        .credentials
        .open_server_headers(tenant.as_uuid(), server.as_uuid(), &sealed)
        .map_err(|e| {
            ApiError::Internal(anyhow::anyhow!(
                "cannot open the server's stored headers (was MCPGATE_SECRET_KEY changed?): {e}"
            ))
        })?;
    let map: BTreeMap<String, String> =
        serde_json::from_slice(&plaintext).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(map.into_iter().collect())
}
