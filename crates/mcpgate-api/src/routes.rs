//! The `/api/v1` routes, one module per resource.

mod api_keys;
mod approvals;
mod audit;
mod classification;
mod grants;
mod policies;
mod servers;
mod signup;

use axum::routing::get;
use axum::Router;
use utoipa::OpenApi;

use crate::state::AppState;

/// Every `/api/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(signup::router())
        .merge(api_keys::router())
        .merge(servers::router())
        .merge(classification::router())
        .merge(policies::router())
        .merge(grants::router())
        .merge(approvals::router())
        .merge(audit::router())
        .route("/openapi.json", get(crate::openapi::openapi_json))
        .route("/docs", get(crate::openapi::docs))
        .fallback(not_found)
}

/// The OpenAPI description of the resource routes above (the docs routes describe
/// themselves in `crate::openapi`).
pub(crate) fn openapi() -> utoipa::openapi::OpenApi {
    [
        api_keys::Api::openapi(),
        servers::Api::openapi(),
        classification::Api::openapi(),
        policies::Api::openapi(),
        grants::Api::openapi(),
        approvals::Api::openapi(),
        audit::Api::openapi(),
    ]
    .into_iter()
    .fold(signup::Api::openapi(), |mut document, part| {
        document.merge(part);
        document
    })
}

async fn not_found() -> crate::error::ApiError {
    crate::error::ApiError::NotFound("route")
}
