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
use crate::extract::Caller;
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
    pub(crate) email: String,
    pub(crate) tenant_name: String,
    pub(crate) csrf: String,
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

impl FromRequestParts<AppState> for UserSession {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(session) = parts.extensions.get::<UserSession>() {
            return Ok(session.clone());
        }
        const LOGIN: ApiError = ApiError::Unauthorized("log in to use the dashboard");
        let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or(LOGIN)?;
        let found = sessions::live_session(&state.db, secret)
            .await?
            .ok_or(LOGIN)?;
        let session = UserSession {
            caller: Caller {
                tenant: found.tenant_id,
                actor: format!("user:{}", found.email),
            },
            email: found.email,
            tenant_name: found.tenant_name,
            csrf: found.csrf_token,
        };
        // Handlers that take the API's `Caller` see the same tenant.
        parts.extensions.insert(session.caller.clone());
        parts.extensions.insert(session.clone());
        Ok(session)
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
}

impl UserSession {
    /// The layout's navigation, with `active` highlighted.
    pub(crate) fn nav(&self, active: &'static str) -> Nav {
        Nav {
            email: self.email.clone(),
            tenant_name: self.tenant_name.clone(),
            csrf: self.csrf.clone(),
            active,
        }
    }
}
