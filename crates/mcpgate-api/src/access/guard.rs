//! The guard every route runs before its handler: authenticate, authorize, and
//! after a successful change, write the admin audit trail.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::routes::{RouteRule, Surface};
use super::trail;
use super::Access;
use crate::dashboard::page::PageError;
use crate::dashboard::session::UserSession;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::state::AppState;

/// Runs `handler` for `request` if the caller may use the route.
pub(super) async fn run<H, T>(
    state: AppState,
    rule: Arc<RouteRule>,
    request: Request,
    handler: H,
) -> Response
where
    H: Handler<T, AppState>,
{
    let permission = match rule.access {
        Access::Public => return handler.call(request, state).await,
        Access::SignedIn => None,
        Access::Requires(permission) => Some(permission),
    };
    let (mut parts, body) = request.into_parts();
    let caller = match authenticate(&state, rule.surface, &mut parts).await {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    if let Some(permission) = permission.filter(|p| !p.allows(caller.role)) {
        let denied = ApiError::Denied {
            role: caller.role,
            permission: permission.as_str(),
        };
        return refuse(rule.surface, denied);
    }
    let recorded = permission
        .filter(|p| p.changes_state())
        .map(|_| (client_address(&state, &parts), path_params(&mut parts)));
    let Some((client, target)) = recorded else {
        return handler.call(Request::from_parts(parts, body), state).await;
    };
    let (response, noted) =
        trail::noting(handler.call(Request::from_parts(parts, body), state.clone())).await;
    {
        // Read before awaiting: a response is not `Sync`, so no borrow of it may cross.
        let status = response.status();
        let changes = response
            .extensions()
            .get::<trail::Changes>()
            .map(|changes| changes.0.clone())
            .or(noted);
        trail::after_change(&state, &rule, &caller, client, target, status, changes).await;
    }
    response
}

async fn authenticate(
    state: &AppState,
    surface: Surface,
    parts: &mut Parts,
) -> Result<Caller, Response> {
    match surface {
        Surface::Api => {
            let caller = crate::extract::authenticate_bearer(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
            parts.extensions.insert(caller.clone());
            Ok(caller)
        }
        Surface::Dashboard => {
            let session = UserSession::authenticate(parts, state)
                .await
                .map_err(IntoResponse::into_response)?;
            parts.extensions.insert(session.caller.clone());
            let caller = session.caller.clone();
            parts.extensions.insert(session);
            Ok(caller)
        }
    }
}

fn refuse(surface: Surface, error: ApiError) -> Response {
    match surface {
        Surface::Api => error.into_response(),
        Surface::Dashboard => PageError(error).into_response(),
    }
}

/// Who sent the request: the peer, or behind a trusted proxy the client it names.
fn client_address(state: &AppState, parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| state.trusted_proxies.client_ip(info.0.ip(), &parts.headers))
}

/// The route's path parameters (`id` → the server's id): what the change was made to.
fn path_params(parts: &mut Parts) -> Vec<(String, String)> {
    // Synchronous in practice: RawPathParams only reads the request's extensions.
    let extracted =
        futures_util::FutureExt::now_or_never(RawPathParams::from_request_parts(parts, &()));
    match extracted {
        Some(Ok(params)) => params
            .iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
        _ => Vec::new(),
    }
}
