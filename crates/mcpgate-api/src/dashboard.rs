//! The dashboard: server-rendered pages (askama, templates in `templates/`) at
//! `/`, beside the REST API at `/api/v1`. Every page works without JavaScript;
//! the one small script adds copy buttons and live JSON checks.
//!
//! Access control is in the types: a handler gets its tenant only from a
//! `UserSession` (the session cookie), and a form only through `CsrfForm`,
//! which refuses a body without the session's token.

mod api_keys;
mod approvals;
mod audit;
mod auth;
mod classification;
mod connect;
mod diff;
mod grants;
mod page;
mod policy;
mod policy_edit;
mod servers;
mod session;
mod snippets;
mod tool_status;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;
use crate::startup::MAX_BODY_BYTES;
use crate::state::AppState;

const STYLESHEET: &str = include_str!("dashboard/assets/dashboard.css");
const SCRIPT: &str = include_str!("dashboard/assets/dashboard.js");

/// Every dashboard route.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/signup", get(auth::signup_page).post(auth::signup))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/servers", get(servers::list).post(servers::add))
        .route("/servers/{id}", get(servers::show))
        .route("/servers/{id}/sync", post(servers::sync))
        .route("/servers/{id}/approve-tool", post(servers::approve_tool))
        .route(
            "/servers/{id}/tool-classification",
            post(classification::set),
        )
        .route(
            "/servers/{id}/tool-classification/remove",
            post(classification::remove),
        )
        .route("/servers/{id}/delete", post(servers::delete))
        .route("/servers/{id}/policy", get(policy::show).post(policy::put))
        .route(
            "/servers/{id}/policy/recommended",
            post(policy::use_recommended),
        )
        .route("/servers/{id}/policy/quick", post(policy::quick))
        .route("/servers/{id}/policy/builder", post(policy::builder))
        .route("/servers/{id}/policy/rollback", post(policy::rollback))
        .route("/servers/{id}/policy/simulate", post(policy::simulate))
        .route(
            "/servers/{id}/connect",
            get(connect::show).post(connect::issue),
        )
        .route("/grants", get(grants::list).post(grants::create))
        .route("/grants/{id}/rotate", post(grants::rotate))
        .route("/grants/{id}/revoke", post(grants::revoke))
        .route("/approvals", get(approvals::list))
        .route("/approvals/{id}/decide", post(approvals::decide))
        .route("/audit", get(audit::show))
        .route("/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api-keys/{id}/revoke", post(api_keys::revoke))
        .route("/assets/dashboard.css", get(stylesheet))
        .route("/assets/dashboard.js", get(script))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Pages show secrets once (tokens, keys): never cache them. Assets set
        // their own Cache-Control, which `if_not_present` keeps.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        // Only our own script and stylesheet run; no framing (clickjacking).
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                 form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

async fn home(session: Option<session::UserSession>) -> Redirect {
    match session {
        Some(_) => Redirect::to("/servers"),
        None => Redirect::to("/login"),
    }
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

impl axum::extract::OptionalFromRequestParts<AppState> for session::UserSession {
    type Rejection = page::PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        use axum::extract::FromRequestParts;
        match <Self as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(session) => Ok(Some(session)),
            Err(page::PageError(ApiError::Unauthorized(_))) => Ok(None),
            Err(other) => Err(other),
        }
    }
}
