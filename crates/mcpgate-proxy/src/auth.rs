//! Who is calling: the grant token (header or URL form), checked against the grant and
//! the server as the cache knows them.

use std::sync::Arc;

use axum::extract::Request;
use chrono::Utc;
use http::{header, HeaderMap, Uri};
use mcpgate_store::{GrantId, ServerId, TenantId};

use crate::cache::{GrantEntry, ServerEntry};
use crate::error::ProxyError;
use crate::state::AppState;

/// A token taken out of the URL form `/mcp/{server}/t/{token}/...` before routing and
/// logging, so it never appears in a span or log line.
#[derive(Debug, Clone)]
pub(crate) struct UrlToken(pub(crate) String);

/// Rewrites `/mcp/{server}/t/{token}/rest` to `/mcp/{server}/rest`, keeping the token in
/// a request extension. Runs before the router and the trace layer.
pub(crate) fn take_url_token(mut request: Request) -> Request {
    let path = request.uri().path();
    let Some(after) = path.strip_prefix("/mcp/") else {
        return request;
    };
    let mut parts = after.splitn(4, '/');
    let (Some(server), Some("t"), Some(token)) = (parts.next(), parts.next(), parts.next()) else {
        return request;
    };
    let rest = parts.next();
    let mut new_path = format!("/mcp/{server}");
    match rest {
        Some(rest) => {
            new_path.push('/');
            new_path.push_str(rest);
        }
        None if path.ends_with('/') => new_path.push('/'),
        None => {}
    }
    let token = token.to_owned();
    if let Some(query) = request.uri().query() {
        new_path.push('?');
        new_path.push_str(query);
    }
    let mut parts = request.uri().clone().into_parts();
    match new_path.parse() {
        Ok(path_and_query) => parts.path_and_query = Some(path_and_query),
        Err(_) => return request,
    }
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
        request.extensions_mut().insert(UrlToken(token));
    }
    request
}

/// An authenticated caller of one server.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) tenant: TenantId,
    pub(crate) grant_id: GrantId,
    pub(crate) grant: Arc<GrantEntry>,
    pub(crate) server: Arc<ServerEntry>,
    /// The version of the token presented, to check it again later ([`recheck`]).
    pub(crate) token_version: u32,
}

/// Checks, in order: `Origin`, the token's presence, signature and expiry, the server
/// id, the token's scope, the grant (tenant, revoked, expired, version, scope), and the
/// server's existence.
pub(crate) async fn authenticate(
    state: &AppState,
    server_id: &str,
    headers: &HeaderMap,
    url_token: Option<&UrlToken>,
) -> Result<Caller, ProxyError> {
    let caller = authenticate_any(state, server_id, headers, url_token).await?;
    if caller.server.transport == "sse" {
        return Err(ProxyError::LegacyTransport);
    }
    Ok(caller)
}

/// [`authenticate`] for the legacy HTTP+SSE endpoints: the server must speak it.
pub(crate) async fn authenticate_legacy(
    state: &AppState,
    server_id: &str,
    headers: &HeaderMap,
    url_token: Option<&UrlToken>,
) -> Result<Caller, ProxyError> {
    let caller = authenticate_any(state, server_id, headers, url_token).await?;
    if caller.server.transport != "sse" {
        return Err(ProxyError::NotLegacy);
    }
    Ok(caller)
}

async fn authenticate_any(
    state: &AppState,
    server_id: &str,
    headers: &HeaderMap,
    url_token: Option<&UrlToken>,
) -> Result<Caller, ProxyError> {
    state
        .origins
        .check(headers)
        .map_err(ProxyError::ForeignOrigin)?;
    let token = bearer(headers)
        .or(url_token.map(|t| t.0.as_str()))
        .ok_or(ProxyError::MissingToken)?;
    let now = Utc::now();
    let claims = state
        .tokens
        .verify(&state.verify_key, token, now)
        .map_err(ProxyError::InvalidToken)?;
    let server: ServerId = server_id.parse().map_err(|_| ProxyError::ServerNotFound)?;
    if let Some(resource) = &claims.resource {
        if !state.resources.is_resource_of(resource, server_id) {
            return Err(ProxyError::WrongAudience);
        }
    }
    if !claims.servers.allows(server.as_uuid()) {
        return Err(ProxyError::OutOfScope(server.to_string()));
    }
    let tenant = TenantId::from_uuid(claims.tenant_id);
    let grant_id = GrantId::from_uuid(claims.grant_id);
    let grant = state
        .cache
        .grant(tenant, grant_id)
        .await
        .map_err(ProxyError::StoreUnavailable)?
        .ok_or(ProxyError::GrantRefused("the grant does not exist"))?;
    if let Some(reason) = grant.refusal(claims.version, now) {
        return Err(ProxyError::GrantRefused(reason));
    }
    if !grant.covers(server) {
        return Err(ProxyError::OutOfScope(server.to_string()));
    }
    let server = state
        .cache
        .server(tenant, server)
        .await
        .map_err(ProxyError::StoreUnavailable)?
        .ok_or(ProxyError::ServerNotFound)?;
    let server = crate::upstream_oauth::current(state, server).await;
    let grant = crate::upstream_oauth::per_grant::current(state, grant, &server).await;
    Ok(Caller {
        tenant,
        grant_id,
        grant,
        server,
        token_version: claims.version,
    })
}

/// The caller as things are now, for a request that waited (a call held for approval):
/// since it was authenticated, its grant may have been revoked, expired, re-issued or
/// narrowed, or its server deleted. `Err` says why it may no longer call.
pub(crate) async fn recheck(state: &AppState, caller: &Caller) -> Result<Caller, String> {
    let unavailable = |error: mcpgate_store::StoreError| {
        format!("the grant could not be checked again ({error})")
    };
    let grant = state
        .cache
        .grant(caller.tenant, caller.grant_id)
        .await
        .map_err(unavailable)?
        .ok_or("the grant no longer exists")?;
    if let Some(reason) = grant.refusal(caller.token_version, Utc::now()) {
        return Err(reason.to_owned());
    }
    if !grant.covers(caller.server.id) {
        return Err("the grant no longer covers this server".to_owned());
    }
    let server = state
        .cache
        .server(caller.tenant, caller.server.id)
        .await
        .map_err(unavailable)?
        .ok_or("the server no longer exists")?;
    Ok(Caller {
        grant,
        server,
        ..caller.clone()
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(uri: &str) -> (String, Option<String>) {
        let request = Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let request = take_url_token(request);
        let token = request.extensions().get::<UrlToken>().map(|t| t.0.clone());
        (request.uri().to_string(), token)
    }

    #[test]
    fn the_url_token_leaves_the_path_before_anything_sees_it() {
        assert_eq!(
            rewrite("/mcp/s1/t/abc.def/"),
            ("/mcp/s1/".into(), Some("abc.def".into()))
        );
        assert_eq!(
            rewrite("/mcp/s1/t/abc"),
            ("/mcp/s1".into(), Some("abc".into()))
        );
        assert_eq!(
            rewrite("/mcp/s1/t/abc/message?sessionId=x"),
            ("/mcp/s1/message?sessionId=x".into(), Some("abc".into()))
        );
        assert_eq!(rewrite("/mcp/s1/"), ("/mcp/s1/".into(), None));
        assert_eq!(rewrite("/healthz"), ("/healthz".into(), None));
    }
}
