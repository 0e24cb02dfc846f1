//! The `/api/v1` routes, one module per resource.

mod api_keys;
mod approvals;
mod audit;
mod grants;
mod policies;
mod servers;
mod signup;

use axum::Router;

use crate::state::AppState;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(signup::router())
        .merge(api_keys::router())
        .merge(servers::router())
        .merge(policies::router())
        .merge(grants::router())
        .merge(approvals::router())
        .merge(audit::router())
        .fallback(not_found)
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("route")
}
