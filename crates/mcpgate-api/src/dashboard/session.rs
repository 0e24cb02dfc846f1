//! Who is using the dashboard: the session cookie, resolved to a tenant-scoped
//! `Caller`, and forms whose CSRF token is checked before they are read.
//!
//! Two tokens guard forms. Signed in, each session has its own synchroniser
//! token, stored with it and put in a hidden `csrf` field of every form. Before
//! signing in (login and sign-up forms), a random token in a short-lived cookie
//! must equal the hidden field (double submit), so another site cannot log a
//! browser into an account of its choosing.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use mcpgate_auth::constant_time_eq;
use mcpgate_store::sessions;
use serde::de::DeserializeOwned;

use crate::dashboard::page::PageError;
use crate::error::ApiError;
use crate::extract::{Caller, Principal};
use crate::state::AppState;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "mcpgate_session";
/// The pre-login CSRF cookie's name.
pub(crate) const LOGIN_CSRF_COOKIE: &str = "mcpgate_login_csrf";
/// How long a session lasts after logging in.
pub(crate) const SESSION_HOURS: i64 = 12;

/// A signed-in dashboard user. The only source of a dashboard page's tenant.
#[derive(Debug, Clone)]
pub(crate) struct UserSession {
    pub(crate) caller: Caller,
    pub(crate) user: mcpgate_store::UserId,
    pub(crate) email: String,
    pub(crate) tenant_name: String,
    pub(crate) csrf: String,
    /// Every tenant the person belongs to, for the switcher.
    pub(crate) tenants: Vec<mcpgate_store::members::Membership>,
}

/// The value of cookie `name` in the request, if sent.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value: always `HttpOnly; SameSite=Lax; Path=/`, and `Secure`
/// when the dashboard is served over https. `max_age` 0 deletes the cookie.
pub(crate) fn set_cookie(state: &AppState, name: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if state.urls.api.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let text = format!("{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}");
    // Our values are base64url tokens: always a valid header value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

impl UserSession {
    /// The session the request's cookie names, with the member's current role.
    pub(crate) async fn authenticate(parts: &Parts, state: &AppState) -> Result<Self, PageError> {
        Self::lookup(parts, state)
            .await?
            .ok_or(PageError(ApiError::Unauthorized(
                "log in to use the dashboard",
            )))
    }

    /// Like [`Self::authenticate`], `None` without a live session (public pages
    /// that only decide where to send a visitor).
    pub(crate) async fn lookup(parts: &Parts, state: &AppState) -> Result<Option<Self>, PageError> {
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let Some(found) = sessions::live_session(&state.db, secret).await? else {
            return Ok(None);
        };
        let tenants = mcpgate_store::members::memberships_of(&state.db, found.user_id).await?;
        Ok(Some(UserSession {
            tenants,
            caller: Caller {
                tenant: found.tenant_id,
                actor: format!("user:{}", found.email),
                role: found.role,
                principal: Principal::Member(found.user_id),
            },
            user: found.user_id,
            email: found.email,
            tenant_name: found.tenant_name,
            csrf: found.csrf_token,
        }))
    }
}

impl FromRequestParts<AppState> for UserSession {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Fail closed: only a route's guard (see `crate::access`) puts a session here.
        parts
            .extensions
            .get::<UserSession>()
            .cloned()
            .ok_or_else(|| {
                PageError(ApiError::Internal(anyhow::anyhow!(
                    "{} {} declares no access: register it through access::Routes",
                    parts.method,
                    parts.uri.path()
                )))
            })
    }
}

/// A form posted by a signed-in user whose `csrf` field matched the session's
/// token (403 otherwise, before the form is even parsed).
#[derive(Debug)]
pub(crate) struct CsrfForm<T> {
    pub(crate) session: UserSession,
    pub(crate) form: T,
    /// Every field as sent, in order, for repeated fields such as multi-selects.
    pub(crate) pairs: Vec<(String, String)>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = UserSession::from_request_parts(&mut parts, state).await?;
        let bytes = read_body(parts, body, state).await?;
        let pairs = form_pairs(&bytes);
        check_token(&pairs, Some(&session.csrf))?;
        let form = parse_form(bytes).await?;
        Ok(CsrfForm {
            session,
            form,
            pairs,
        })
    }
}

/// A login or sign-up form, whose `csrf` field matched the pre-login cookie.
#[derive(Debug)]
pub(crate) struct LoginCsrfForm<T> {
    pub(crate) form: T,
    pub(crate) headers: HeaderMap,
    /// Who sent it: the peer address, or behind a trusted proxy the client it names
    /// (see [`crate::client_address`]).
    pub(crate) client: Option<std::net::IpAddr>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for LoginCsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let headers = parts.headers.clone();
        let client = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| state.trusted_proxies.client_ip(info.0.ip(), &headers));
        let bytes = read_body(parts, body, state).await?;
        check_token(&form_pairs(&bytes), cookie(&headers, LOGIN_CSRF_COOKIE))?;
        let form = parse_form(bytes).await?;
        Ok(LoginCsrfForm {
            form,
            headers,
            client,
        })
    }
}

async fn read_body(parts: Parts, body: Body, state: &AppState) -> Result<Bytes, PageError> {
    Bytes::from_request(Request::from_parts(parts, body), state)
        .await
        .map_err(|rejection| PageError(ApiError::from(rejection)))
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

fn check_token(pairs: &[(String, String)], expected: Option<&str>) -> Result<(), PageError> {
    const REFUSED: ApiError = ApiError::Forbidden(
        "This form has expired or did not come from this dashboard. Go back, reload the page and try again.",
    );
    let sent = pairs
        .iter()
        .find(|(key, _)| key == "csrf")
        .map(|(_, value)| value.as_str())
        .ok_or(REFUSED)?;
    match expected {
        Some(expected)
            if !expected.is_empty() && constant_time_eq(sent.as_bytes(), expected.as_bytes()) =>
        {
            Ok(())
        }
        _ => Err(PageError(REFUSED)),
    }
}

async fn parse_form<T: DeserializeOwned>(bytes: Bytes) -> Result<T, PageError> {
    let request = Request::builder()
        .method("POST")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(bytes))
        .map_err(|error| ApiError::Internal(error.into()))?;
    axum::Form::<T>::from_request(request, &())
        .await
        .map(|axum::Form(form)| form)
        .map_err(|rejection| PageError(ApiError::BadRequest(rejection.body_text())))
}

/// What every signed-in page's layout shows: who is signed in, where they are,
/// and the token its forms carry.
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    pub(crate) email: String,
    pub(crate) tenant_name: String,
    pub(crate) csrf: String,
    pub(crate) active: &'static str,
    /// The member's role here, and what it lets the layout offer.
    pub(crate) role: mcpgate_store::Role,
    pub(crate) can: Can,
    /// `(id, name, current)` of every tenant the person belongs to.
    pub(crate) tenants: Vec<(String, String, bool)>,
}

/// Which links and forms a page shows; the routes' guards decide regardless.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Can {
    pub(crate) manage_api_keys: bool,
    pub(crate) manage_members: bool,
    /// The tenant's settings (single sign-on).
    pub(crate) manage_settings: bool,
}

impl UserSession {
    /// The layout's navigation, with `active` highlighted.
    pub(crate) fn nav(&self, active: &'static str) -> Nav {
        use crate::access::Permission as P;
        let role = self.caller.role;
        Nav {
            email: self.email.clone(),
            tenant_name: self.tenant_name.clone(),
            csrf: self.csrf.clone(),
            active,
            role,
            can: Can {
                manage_api_keys: P::ManageApiKeys.allows(role),
                manage_members: P::ManageMembers.allows(role),
                manage_settings: P::ManageSettings.allows(role),
            },
            tenants: self
                .tenants
                .iter()
                .map(|tenant| {
                    (
                        tenant.tenant_id.to_string(),
                        tenant.tenant_name.clone(),
                        tenant.tenant_id == self.caller.tenant,
                    )
                })
                .collect(),
        }
    }
}
