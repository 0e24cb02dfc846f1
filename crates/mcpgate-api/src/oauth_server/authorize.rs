//! `/oauth/authorize`: the authorization request checked (client, exact redirect URI,
//! PKCE S256, resource), the member signed in (the dashboard's session), the consent page,
//! and on consent a single-use code sent back to the client with `state` and `iss`
//! (RFC 9207).
//!
//! Until the client and its redirect URI are known good, a bad request is answered with
//! a page here, never a redirect (RFC 6749 §4.1.2.1): we do not send a browser to an
//! address the client did not register.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use mcpgate_auth::{constant_time_eq, random_token};
use mcpgate_store::oauth_server::{self, Code};
use mcpgate_store::sessions::{self, Session};
use mcpgate_store::{servers, ServerId, StoreError};
use serde::Serialize;

use super::audit::{record, FlowEvent};
use super::clients::{Client, ClientError};
use super::consent::{policy_choices, read_choice, ConsentPage, RefusedPage, EXPIRY_DAYS};
use super::{issuer, pkce, resource_of, resource_server, CODE_LIFETIME};
use crate::access::Permission;
use crate::dashboard::session::{cookie, SESSION_COOKIE};
use crate::state::AppState;

/// The parameters of an authorization request, as the client sent them (query) and as
/// the consent form carries them back (hidden fields).
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct AuthorizationRequest {
    pub(crate) response_type: String,
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) state: String,
    pub(crate) code_challenge: String,
    pub(crate) code_challenge_method: String,
    pub(crate) resource: String,
    pub(crate) scope: String,
}

impl AuthorizationRequest {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let field = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        Self {
            response_type: field("response_type"),
            client_id: field("client_id"),
            redirect_uri: field("redirect_uri"),
            state: field("state"),
            code_challenge: field("code_challenge"),
            code_challenge_method: field("code_challenge_method"),
            resource: field("resource"),
            scope: field("scope"),
        }
    }

    /// `/oauth/authorize?...` again, for the login page to come back to.
    fn path(&self) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", &self.response_type),
                ("client_id", &self.client_id),
                ("redirect_uri", &self.redirect_uri),
                ("state", &self.state),
                ("code_challenge", &self.code_challenge),
                ("code_challenge_method", &self.code_challenge_method),
                ("resource", &self.resource),
                ("scope", &self.scope),
            ])
            .finish();
        format!("/oauth/authorize?{query}")
    }
}

/// A request that passed every check that needs no person.
struct Checked {
    client: Client,
    server: ServerId,
}

/// How a request is refused.
enum Refusal {
    /// Before the redirect URI is trusted: a page.
    Page(StatusCode, String),
    /// After: back to the client with `error` (and `state`, `iss`).
    Redirect(&'static str, String),
    Failed(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(error: StoreError) -> Self {
        Refusal::Failed(error)
    }
}

async fn check(state: &AppState, request: &AuthorizationRequest) -> Result<Checked, Refusal> {
    if request.client_id.is_empty() {
        return Err(Refusal::Page(
            StatusCode::BAD_REQUEST,
            "The request names no client (client_id).".into(),
        ));
    }
    let client = match state
        .oauth
        .clients
        .find(&state.db, &request.client_id)
        .await
    {
        Ok(client) => client,
        Err(ClientError::Store(error)) => return Err(Refusal::Failed(error)),
        Err(error) => return Err(Refusal::Page(StatusCode::BAD_REQUEST, error.to_string())),
    };
    if !client.allows_redirect(&request.redirect_uri) {
        return Err(Refusal::Page(
            StatusCode::BAD_REQUEST,
            format!(
                "The redirect URI {:?} is not one {} registered.",
                request.redirect_uri, client.name
            ),
        ));
    }
    if request.response_type != "code" {
        return Err(Refusal::Redirect(
            "unsupported_response_type",
            "response_type must be code".into(),
        ));
    }
    if request.code_challenge_method != "S256" || !pkce::is_s256_challenge(&request.code_challenge)
    {
        return Err(Refusal::Redirect(
            "invalid_request",
            "PKCE is required: send code_challenge with code_challenge_method S256".into(),
        ));
    }
    let server = resource_server(&state.urls, &request.resource).ok_or_else(|| {
        Refusal::Redirect(
            "invalid_target",
            "resource must be an mcpgate proxy URL (RFC 8707)".into(),
        )
    })?;
    Ok(Checked { client, server })
}

/// `GET /oauth/authorize`: the consent page, or the login page first.
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let request = AuthorizationRequest::from_pairs(&pairs);
    match consent_page(&state, &headers, &request).await {
        Ok(response) => response,
        Err(refusal) => refuse(&state, &request, refusal),
    }
}

async fn consent_page(
    state: &AppState,
    headers: &HeaderMap,
    request: &AuthorizationRequest,
) -> Result<Response, Refusal> {
    let checked = check(state, request).await?;
    let Some(session) = signed_in(state, headers).await? else {
        let next =
            url::form_urlencoded::byte_serialize(request.path().as_bytes()).collect::<String>();
        return Ok(Redirect::to(&format!("/login?next={next}")).into_response());
    };
    let server = member_may_connect(state, &session, &checked).await?;
    let page = ConsentPage {
        csrf: session.csrf_token.clone(),
        email: session.email.clone(),
        tenant_name: session.tenant_name.clone(),
        client_name: checked.client.name.clone(),
        client_id: checked.client.id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        registered: checked.client.registered,
        server_name: server.name,
        proxy_url: resource_of(&state.urls, checked.server),
        policies: policy_choices(&state.db, session.tenant_id).await?,
        expiry_days: EXPIRY_DAYS,
        request: request.clone(),
    };
    let html = page
        .render()
        .map_err(|error| Refusal::Page(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))?;
    let mut response = (StatusCode::OK, Html(html)).into_response();
    protect(&mut response, &request.redirect_uri);
    Ok(response)
}

/// The member's session, if the browser has one.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, StoreError> {
    match cookie(headers, SESSION_COOKIE) {
        Some(secret) => sessions::live_session(&state.db, secret).await,
        None => Ok(None),
    }
}

/// The server, if it is the member's tenant's and the member may issue grants, and the
/// tenant takes this kind of client.
async fn member_may_connect(
    state: &AppState,
    session: &Session,
    checked: &Checked,
) -> Result<servers::Server, Refusal> {
    let server = match servers::server(&state.db, session.tenant_id, checked.server).await {
        Ok(server) => server,
        Err(StoreError::NotFound) => {
            return Err(Refusal::Page(
                StatusCode::NOT_FOUND,
                format!(
                    "This server is not in {}, the account you are signed in to as {}.",
                    session.tenant_name, session.email
                ),
            ))
        }
        Err(error) => return Err(Refusal::Failed(error)),
    };
    if !Permission::ManageGrants.allows(session.role) {
        return Err(Refusal::Page(
            StatusCode::FORBIDDEN,
            "Connecting a client issues a grant; your role in this account may not issue grants. Ask an admin.".into(),
        ));
    }
    if checked.client.registered
        && !oauth_server::dynamic_registration_allowed(&state.db, session.tenant_id).await?
    {
        return Err(Refusal::Redirect(
            "access_denied",
            "this account does not accept dynamically registered clients".into(),
        ));
    }
    Ok(server)
}

/// `POST /oauth/authorize`: the member's answer.
pub(super) async fn decide(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let request = AuthorizationRequest::from_pairs(&pairs);
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    };
    let answer = async {
        let checked = check(&state, &request).await?;
        let session = signed_in(&state, &headers).await?.ok_or_else(|| {
            Refusal::Page(
                StatusCode::UNAUTHORIZED,
                "Your session has ended: log in and start again from your client.".into(),
            )
        })?;
        if !constant_time_eq(field("csrf").as_bytes(), session.csrf_token.as_bytes()) {
            return Err(Refusal::Page(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this dashboard. Start again from your client.".into(),
            ));
        }
        member_may_connect(&state, &session, &checked).await?;
        let actor = format!("user:{}", session.email);
        if field("decision") != "allow" {
            record(
                &state,
                session.tenant_id,
                FlowEvent::ConsentDenied,
                Some(checked.server),
                None,
                &actor,
                format!(
                    "refused client {} ({})",
                    checked.client.name, checked.client.id
                ),
            )
            .await;
            return Err(Refusal::Redirect(
                "access_denied",
                "the request was refused".into(),
            ));
        }
        let now = Utc::now();
        let choice = read_choice(
            &state.db,
            session.tenant_id,
            field("policy"),
            field("expires"),
            now,
        )
        .await
        .map_err(|message| Refusal::Page(StatusCode::UNPROCESSABLE_ENTITY, message))?;
        let secret = random_token(32);
        let code = Code {
            tenant_id: session.tenant_id,
            server_id: checked.server,
            client_id: checked.client.id.clone(),
            client_name: checked.client.name.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            resource: resource_of(&state.urls, checked.server),
            grant_policy: choice.policy.clone(),
            grant_expires_at: choice.expires_at,
            consented_by: actor.clone(),
            expires_at: now + CODE_LIFETIME,
        };
        oauth_server::insert_code(&state.db, &secret, &code).await?;
        let policy = match &choice.policy {
            Some(_) => "a grant policy",
            None => "the server's policy",
        };
        let expiry = choice
            .expires_at
            .map_or("no expiry".to_owned(), |at| format!("until {at}"));
        record(
            &state,
            session.tenant_id,
            FlowEvent::Consent,
            Some(checked.server),
            None,
            &actor,
            format!(
                "allowed client {} ({}) with {policy}, {expiry}",
                checked.client.name, checked.client.id
            ),
        )
        .await;
        Ok(back_to_client(&state, &request, &[("code", &secret)]))
    };
    match answer.await {
        Ok(response) => response,
        Err(refusal) => refuse(&state, &request, refusal),
    }
}

fn refuse(state: &AppState, request: &AuthorizationRequest, refusal: Refusal) -> Response {
    match refusal {
        Refusal::Page(status, message) => page(status, message),
        Refusal::Redirect(error, description) => back_to_client(
            state,
            request,
            &[("error", error), ("error_description", &description)],
        ),
        Refusal::Failed(error) => {
            tracing::error!(%error, "an authorization request failed on our side");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Something went wrong on our side; it has been logged. Try again shortly.".into(),
            )
        }
    }
}

fn page(status: StatusCode, message: String) -> Response {
    match (RefusedPage {
        message: message.clone(),
    })
    .render()
    {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, message).into_response(),
    }
}

/// A 303 to the client's (checked) redirect URI with `params`, its `state` and our `iss`.
fn back_to_client(
    state: &AppState,
    request: &AuthorizationRequest,
    params: &[(&str, &str)],
) -> Response {
    let Ok(mut target) = url::Url::parse(&request.redirect_uri) else {
        return page(
            StatusCode::BAD_REQUEST,
            "The redirect URI is not a URL.".into(),
        );
    };
    {
        let mut query = target.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
        if !request.state.is_empty() {
            query.append_pair("state", &request.state);
        }
        query.append_pair("iss", &issuer(&state.urls));
    }
    Redirect::to(target.as_str()).into_response()
}

/// The consent page may not be framed (a click on Allow must be the member's own), and
/// its form may only go to us and, through our redirect, to the client.
fn protect(response: &mut Response, redirect_uri: &str) {
    let target = url::Url::parse(redirect_uri)
        .ok()
        .map(|url| match url.host_str() {
            Some(_) => url.origin().ascii_serialization(),
            None => format!("{}:", url.scheme()),
        })
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         form-action 'self' {target}; frame-ancestors 'none'; base-uri 'none'"
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}
