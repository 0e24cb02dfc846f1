//! The immutable snapshots the cache holds, and how each is read from Postgres.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName, HeaderValue};
use mcpgate_auth::CredentialsKey;
use mcpgate_policy::{Classification, CompiledPolicy};
use mcpgate_store::upstream_oauth::ConnectionScope;
use mcpgate_store::{
    grants, policies, servers, upstream_oauth, GrantId, PgPool, ServerId, StoreError, TenantId,
};
use mcpgate_upstream::AddressPolicy;
use uuid::Uuid;

/// A server with everything a request needs: where it is, its credentials, its policy
/// and its tools.
#[derive(Debug)]
pub(crate) struct ServerEntry {
    pub(crate) tenant: TenantId,
    pub(crate) id: ServerId,
    /// For the errors agents read.
    pub(crate) name: Arc<str>,
    pub(crate) url: reqwest::Url,
    /// The same URL as the relay's client takes it, parsed once here rather than per call.
    pub(crate) uri: http::Uri,
    /// Why the URL may not be reached (SSRF guard), if it may not.
    pub(crate) refused: Option<String>,
    /// `streamable_http` or `sse` (legacy).
    pub(crate) transport: String,
    /// The protocol version discovery negotiated (`2026-07-28` for a modern upstream; a
    /// handshake version for one that speaks only the handshake era; `None`: not known).
    pub(crate) protocol_version: Option<String>,
    /// The server's own upstream headers, decrypted (with its OAuth access token, for
    /// a connected OAuth server); `Err` when there are none to send (then every request
    /// to the server fails clearly rather than going upstream without credentials).
    pub(crate) headers: Result<HeaderMap, CredentialsProblem>,
    /// The OAuth connection's refresh schedule, for a connected OAuth server.
    pub(crate) oauth: Option<crate::upstream_oauth::OAuthEntry>,
    /// `Grant`: an OAuth server whose calls each carry their grant's own access token
    /// ([`crate::upstream_oauth::per_grant::authorization`]); its `headers` hold none.
    pub(crate) oauth_scope: crate::upstream_oauth::Scope,
    pub(crate) block_changed_tools: bool,
    pub(crate) revision: i64,
    /// `None`: no policy yet, so every call is denied and no tool is shown.
    pub(crate) policy: Option<PolicyEntry>,
    pub(crate) tools: HashMap<String, ToolEntry>,
    /// Tools seen listed with a definition other than the approved one since this
    /// snapshot was loaded ([`crate::drift`]): changed now, before the next sync says so.
    pub(crate) changed_live: Mutex<HashSet<String>>,
}

impl ServerEntry {
    /// Whether `tool` changed since it was approved: as synced, or as seen listed since.
    pub(crate) fn tool_changed(&self, tool: &str) -> bool {
        self.tools.get(tool).is_some_and(|entry| entry.changed)
            || self
                .changed_live
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(tool)
    }

    /// Records that `tool` was listed with an unapproved definition.
    pub(crate) fn mark_changed(&self, tool: &str) {
        let mut changed = self
            .changed_live
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !changed.contains(tool) {
            changed.insert(tool.to_owned());
        }
    }
}

/// A compiled server or grant policy.
#[derive(Debug, Clone)]
pub(crate) struct PolicyEntry {
    /// The version for audit rows (`None` for a grant's own policy).
    pub(crate) version: Option<i32>,
    /// `Err` with a reason when the stored document no longer compiles: every call is
    /// denied with that reason (the API validates documents, so this means a bug or a
    /// hand edit).
    pub(crate) compiled: Result<Arc<CompiledPolicy>, Arc<str>>,
}

/// What the proxy knows about one discovered tool.
#[derive(Debug, Clone)]
pub(crate) struct ToolEntry {
    pub(crate) classification: Option<Classification>,
    /// The definition changed since it was approved.
    pub(crate) changed: bool,
    /// The fingerprint of the definition as last synced.
    pub(crate) fingerprint: Arc<str>,
    /// The fingerprint of the approved definition.
    pub(crate) approved: Option<Arc<str>>,
    /// The definition declares an `outputSchema` (a refusal then carries no
    /// `structuredContent`, which clients would check against it).
    pub(crate) output_schema: bool,
}

impl ServerEntry {
    pub(crate) async fn load(
        db: &PgPool,
        credentials: &CredentialsKey,
        address_policy: &AddressPolicy,
        tenant: TenantId,
        id: ServerId,
    ) -> Result<Option<Self>, StoreError> {
        let server = match servers::server(db, tenant, id).await {
            Ok(server) => server,
            Err(StoreError::NotFound) => return Ok(None),
            Err(error) => return Err(error),
        };
        let (sealed, policy, tools, connection) = tokio::try_join!(
            servers::server_headers_sealed(db, tenant, id),
            policies::active_policy(db, tenant, id),
            servers::list_tools(db, tenant, id),
            upstream_oauth::connection(db, tenant, id),
        )?;
        let headers = match sealed {
            None => Ok(HeaderMap::new()),
            Some(sealed) => open_headers(credentials, tenant, id, &sealed)
                .map_err(CredentialsProblem::Unreadable),
        };
        let oauth_scope = match &connection {
            Some(connection) if connection.connection_scope == ConnectionScope::Grant => {
                crate::upstream_oauth::Scope::Grant
            }
            _ => crate::upstream_oauth::Scope::Server,
        };
        let (headers, oauth) = match connection {
            None => (headers, None),
            // Never the tenant's tokens: each call adds its own grant's.
            Some(_) if oauth_scope == crate::upstream_oauth::Scope::Grant => (headers, None),
            Some(connection) => crate::upstream_oauth::with_access_token(
                credentials,
                &server.name,
                headers,
                &connection,
            ),
        };
        let url = reqwest::Url::parse(&server.url)
            .map_err(|e| StoreError::Corrupt(format!("server {id} has an invalid URL: {e}")))?;
        let uri = http::Uri::try_from(url.as_str())
            .map_err(|e| StoreError::Corrupt(format!("server {id} has an invalid URL: {e}")))?;
        let refused = mcpgate_upstream::refused_host(address_policy, &url)
            .map(|r| format!("upstream {r}; the proxy does not reach it"));
        let policy = policy.map(|version| PolicyEntry {
            version: Some(version.version),
            compiled: compile(&version.document),
        });
        let tools = tools
            .into_iter()
            .filter(|tool| tool.removed_at.is_none())
            .map(|tool| {
                let classification = match (tool.category.parse(), tool.risk.parse()) {
                    (Ok(category), Ok(risk)) => Some(Classification { category, risk }),
                    _ => None,
                };
                let changed = tool.approved_fingerprint.as_deref() != Some(&tool.fingerprint);
                let entry = ToolEntry {
                    classification,
                    changed,
                    fingerprint: Arc::from(tool.fingerprint.as_str()),
                    approved: tool.approved_fingerprint.as_deref().map(Arc::from),
                    output_schema: tool.definition.get("outputSchema").is_some(),
                };
                (tool.name, entry)
            })
            .collect();
        Ok(Some(Self {
            tenant,
            id,
            name: Arc::from(server.name.as_str()),
            url,
            uri,
            refused,
            transport: server.transport,
            protocol_version: server.protocol_version,
            headers,
            oauth,
            oauth_scope,
            block_changed_tools: server.block_changed_tools,
            revision: server.revision,
            policy,
            tools,
            changed_live: Mutex::default(),
        }))
    }
}

/// Why a server has no credentials to send upstream.
#[derive(Debug, Clone)]
pub(crate) enum CredentialsProblem {
    /// The sealed headers cannot be opened: logged, and the client hears only that.
    Unreadable(String),
    /// An OAuth server that is not connected (or needs reconnecting): the message names
    /// the server and says so, for the agent as is.
    NotConnected(Arc<str>),
}

impl CredentialsProblem {
    /// The failure a request to the server ends with.
    pub(crate) fn failure(&self, server: ServerId) -> crate::relay::UpstreamFailure {
        match self {
            CredentialsProblem::Unreadable(reason) => {
                tracing::error!(server = %server, %reason, "cannot open the server's headers");
                crate::relay::UpstreamFailure::Credentials
            }
            CredentialsProblem::NotConnected(message) => {
                crate::relay::UpstreamFailure::NotConnected(Arc::clone(message))
            }
        }
    }
}

/// Opens the sealed `{"Header-Name": "value"}` object, bound to this server's row.
pub(crate) fn open_headers(
    credentials: &CredentialsKey,
    tenant: TenantId,
    id: ServerId,
    sealed: &[u8],
) -> Result<HeaderMap, String> {
    let plain = credentials
        .open_server_headers(tenant.as_uuid(), id.as_uuid(), sealed)
        .map_err(|e| e.to_string())?;
    let object: HashMap<String, String> = serde_json::from_slice(&plain)
        .map_err(|e| format!("the opened headers are not a JSON object of strings: {e}"))?;
    let mut headers = HeaderMap::with_capacity(object.len());
    for (name, value) in object {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        let mut value =
            HeaderValue::from_str(&value).map_err(|_| format!("invalid value for {name}"))?;
        value.set_sensitive(true);
        headers.insert(name, value);
    }
    Ok(headers)
}

/// Compiles a stored document; an error becomes the reason every call is denied.
pub(crate) fn compile(document: &str) -> Result<Arc<CompiledPolicy>, Arc<str>> {
    mcpgate_policy::parse(document)
        .and_then(|policy| mcpgate_policy::compile(&policy))
        .map(Arc::new)
        .map_err(|errors| {
            tracing::error!(%errors, "a stored policy does not compile; denying every call");
            Arc::from(
                "the active policy could not be loaded; every call is refused until it is fixed",
            )
        })
}

/// A grant as the proxy checks it on every request.
#[derive(Debug)]
pub(crate) struct GrantEntry {
    pub(crate) tenant: TenantId,
    pub(crate) id: GrantId,
    pub(crate) revoked: bool,
    pub(crate) expires_at: Option<DateTime<Utc>>,
    pub(crate) token_version: i32,
    /// `None`: every server of the tenant.
    pub(crate) server_ids: Option<Vec<Uuid>>,
    /// The grant's own policy, which a call must pass too.
    pub(crate) policy: Option<PolicyEntry>,
    /// Its own upstream OAuth connections, to servers of the `grant` scope.
    pub(crate) connections: crate::upstream_oauth::GrantConnections,
}

impl GrantEntry {
    pub(crate) async fn load(
        db: &PgPool,
        credentials: &CredentialsKey,
        tenant: TenantId,
        id: GrantId,
    ) -> Result<Option<Self>, StoreError> {
        let grant = match grants::grant(db, tenant, id).await {
            Ok(grant) => grant,
            Err(StoreError::NotFound) => return Ok(None),
            Err(error) => return Err(error),
        };
        let connections =
            crate::upstream_oauth::GrantConnections::load(db, credentials, tenant, id).await?;
        Ok(Some(Self {
            tenant,
            id,
            revoked: grant.revoked_at.is_some(),
            expires_at: grant.expires_at,
            token_version: grant.token_version,
            server_ids: grant.server_ids,
            policy: grant.policy.as_deref().map(|document| PolicyEntry {
                version: None,
                compiled: compile(document),
            }),
            connections,
        }))
    }

    /// Why a token of this grant must be refused now, if it must.
    pub(crate) fn refusal(&self, token_version: u32, now: DateTime<Utc>) -> Option<&'static str> {
        if self.revoked {
            return Some("the grant was revoked");
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return Some("the grant has expired");
        }
        if i64::from(token_version) != i64::from(self.token_version) {
            return Some("the token was replaced by a newer one; use the grant's current token");
        }
        None
    }

    pub(crate) fn covers(&self, server: ServerId) -> bool {
        self.server_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&server.as_uuid()))
    }
}
