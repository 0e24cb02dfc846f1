//! The `/api/v1` routes, one module per resource.

mod admin_audit;
mod api_keys;
mod approvals;
mod audit;
mod audit_export;
mod classification;
mod grants;
mod members;
mod oauth_settings;
mod policies;
mod servers;
mod signup;
mod sso;
mod upstream_oauth;
mod upstream_oauth_grants;

use utoipa::OpenApi;

pub(crate) use admin_audit::{export_lines as admin_audit_export, page as admin_audit_page};

use crate::access::{Access, Routes};

/// Every `/api/v1` route, each with the access it requires.
pub(crate) fn router() -> Routes {
    Routes::api()
        .merge(signup::router())
        .merge(api_keys::router())
        .merge(servers::router())
        .merge(classification::router())
        .merge(policies::router())
        .merge(grants::router())
        .merge(approvals::router())
        .merge(members::router())
        .merge(admin_audit::router())
        .merge(oauth_settings::router())
        .merge(sso::router())
        .merge(audit::router())
        .merge(audit_export::router())
        .merge(upstream_oauth::router())
        .merge(upstream_oauth_grants::router())
        .get(
            "/openapi.json",
            Access::Public,
            crate::openapi::openapi_json,
        )
        .get("/docs", Access::Public, crate::openapi::docs)
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
        members::Api::openapi(),
        admin_audit::Api::openapi(),
        oauth_settings::Api::openapi(),
        sso::Api::openapi(),
        audit::Api::openapi(),
        audit_export::Api::openapi(),
        upstream_oauth::Api::openapi(),
        upstream_oauth_grants::Api::openapi(),
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
