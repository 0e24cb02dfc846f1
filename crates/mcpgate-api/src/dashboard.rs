//! The dashboard: server-rendered pages (askama, templates in `templates/`) at
//! `/`, beside the REST API at `/api/v1`. Every page works without JavaScript;
//! the one small script adds copy buttons and live JSON checks.
//!
//! Access control is in the types: a handler gets its tenant only from a
//! `UserSession` (the session cookie), and a form only through `CsrfForm`,
//! which refuses a body without the session's token.

mod account;
mod admin_audit;
mod api_keys;
mod approvals;
mod audit;
mod auth;
mod classification;
mod connect;
mod diff;
mod grant_connect;
mod grants;
mod join;
mod members;
pub(crate) mod page;
mod password;
mod password_reset;
mod policy;
mod policy_edit;
mod servers;
pub(crate) mod session;
mod snippets;
mod sso;
mod tool_status;
mod upstream_oauth;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;

/// The policy line diff, also what the admin trail records of a new policy version.
pub(crate) use diff::line_diff;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::access::{Access, Permission, Routes};
use crate::startup::MAX_BODY_BYTES;
use crate::state::AppState;

const STYLESHEET: &str = include_str!("dashboard/assets/dashboard.css");
const SCRIPT: &str = include_str!("dashboard/assets/dashboard.js");

/// Every dashboard route, each with the access it requires.
pub(crate) fn router() -> Routes {
    use Permission as P;
    Routes::dashboard()
        .get("/", Access::Public, home)
        .get("/signup", Access::Public, auth::signup_page)
        .post("/signup", Access::Public, auth::signup)
        .get("/login", Access::Public, auth::login_page)
        .post("/login", Access::Public, auth::login)
        .post("/logout", Access::SignedIn, auth::logout)
        .get("/sso/start", Access::Public, sso::start)
        .get("/sso/callback", Access::Public, sso::callback)
        .get("/settings/sso", P::ManageSettings, sso::show)
        .post("/settings/sso", P::ManageSettings, sso::save)
        .post("/settings/sso/remove", P::ManageSettings, sso::remove)
        .get("/servers", P::ViewServers, servers::list)
        .post("/servers", P::ManageServers, servers::add)
        .get("/servers/{id}", P::ViewServers, servers::show)
        .post("/servers/{id}/sync", P::ManageServers, servers::sync)
        .post(
            "/servers/{id}/approve-tool",
            P::ManageServers,
            servers::approve_tool,
        )
        .post(
            "/servers/{id}/tool-classification",
            P::ManageServers,
            classification::set,
        )
        .post(
            "/servers/{id}/tool-classification/remove",
            P::ManageServers,
            classification::remove,
        )
        .post("/servers/{id}/delete", P::ManageServers, servers::delete)
        .post(
            "/servers/{id}/oauth-connect",
            P::ManageServers,
            upstream_oauth::connect,
        )
        // A grant's own connection: any member of the tenant, signed in (the page sends
        // a visitor to the login page and back).
        .get(
            "/servers/{id}/grant-connect/{grant}",
            Access::Public,
            grant_connect::show,
        )
        .post(
            "/servers/{id}/grant-connect/{grant}",
            Access::SignedIn,
            grant_connect::start,
        )
        .get("/servers/{id}/policy", P::ViewPolicies, policy::show)
        .post("/servers/{id}/policy", P::ManagePolicies, policy::put)
        .post(
            "/servers/{id}/policy/recommended",
            P::ManagePolicies,
            policy::use_recommended,
        )
        .post(
            "/servers/{id}/policy/quick",
            P::ManagePolicies,
            policy::quick,
        )
        .post(
            "/servers/{id}/policy/builder",
            P::ManagePolicies,
            policy::builder,
        )
        .post(
            "/servers/{id}/policy/rollback",
            P::ManagePolicies,
            policy::rollback,
        )
        .post(
            "/servers/{id}/policy/simulate",
            P::ViewPolicies,
            policy::simulate,
        )
        .get("/servers/{id}/connect", P::ManageGrants, connect::show)
        .post("/servers/{id}/connect", P::ManageGrants, connect::issue)
        .get("/grants", P::ViewGrants, grants::list)
        .post("/grants", P::ManageGrants, grants::create)
        .post("/grants/{id}/rotate", P::ManageGrants, grants::rotate)
        .post("/grants/{id}/revoke", P::ManageGrants, grants::revoke)
        .get("/approvals", P::ViewApprovals, approvals::list)
        .post(
            "/approvals/{id}/decide",
            P::DecideApprovals,
            approvals::decide,
        )
        .get("/audit", P::ViewAudit, audit::show)
        .get("/api-keys", P::ManageApiKeys, api_keys::list)
        .post("/api-keys", P::ManageApiKeys, api_keys::create)
        .post("/api-keys/{id}/revoke", P::ManageApiKeys, api_keys::revoke)
        .get("/members", P::ViewMembers, members::list)
        .post("/members/invite", P::ManageMembers, members::invite)
        .post("/members/{id}/role", P::ManageMembers, members::change_role)
        .post("/members/{id}/remove", P::ManageMembers, members::remove)
        .post(
            "/members/{id}/password-reset",
            P::ManageMembers,
            members::password_reset,
        )
        .post(
            "/invitations/{id}/revoke",
            P::ManageMembers,
            members::revoke_invitation,
        )
        .get(
            "/forgot-password",
            Access::Public,
            password_reset::forgot_page,
        )
        .post("/forgot-password", Access::Public, password_reset::forgot)
        .get(
            "/reset-password/{token}",
            Access::Public,
            password_reset::reset_page,
        )
        .post(
            "/reset-password/{token}",
            Access::Public,
            password_reset::reset,
        )
        .get("/join/{token}", Access::Public, join::show)
        .post("/join/{token}/accept", Access::SignedIn, join::accept)
        .post("/join/{token}/signup", Access::Public, join::sign_up)
        .post("/switch-tenant", Access::SignedIn, account::switch_tenant)
        .get(
            "/account/sessions",
            Access::SignedIn,
            account::list_sessions,
        )
        .get("/account/password", Access::SignedIn, password::show)
        .post("/account/password", Access::SignedIn, password::change)
        .post(
            "/account/sessions/end-all",
            Access::SignedIn,
            account::sign_out_everywhere,
        )
        .get("/admin-audit", P::ViewAdminTrail, admin_audit::show)
        .get(
            "/admin-audit/export",
            P::ViewAdminTrail,
            admin_audit::export,
        )
        .get("/assets/dashboard.css", Access::Public, stylesheet)
        .get("/assets/dashboard.js", Access::Public, script)
}

/// The dashboard's routes with the headers every page carries.
pub(crate) fn serve(routes: Routes) -> Router<AppState> {
    routes
        .into_router()
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
        if let Some(session) = parts.extensions.get::<Self>() {
            return Ok(Some(session.clone()));
        }
        Self::lookup(parts, state).await
    }
}
