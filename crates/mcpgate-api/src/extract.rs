//! Extractors that own their rejections: the caller's tenant, and JSON bodies,
//! paths and queries whose errors come out in the API's error format.

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::request::Parts;
use mcpgate_store::{accounts, ApiKeyId, Role, TenantId, UserId};

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body; rejections become `ApiError`s (400, 413, 422).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

/// The raw body, for documents stored exactly as sent; rejections become
/// `ApiError`s (413 above the limit).
#[derive(Debug)]
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(
        request: axum::extract::Request,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(request, state)
            .await
            .map(RawBody)
            .map_err(ApiError::from)
    }
}

impl RawBody {
    /// The body as JSON of type `T`, or `T::default()` when it is empty (for
    /// actions whose body is optional).
    pub fn json_or_default<T: serde::de::DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.0.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        serde_json::from_slice(&self.0)
            .map_err(|error| ApiError::BadRequest(format!("invalid JSON body: {error}")))
    }
}

/// Path parameters; a malformed id is a 404, like an unknown one.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParams<T>(pub T);

/// Query parameters; rejections are 400s in the API's format.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct QueryParams<T>(pub T);

/// Who is calling: the only source of a request's `TenantId`. Only a route's guard
/// (see [`crate::access`]) makes one, after checking the route's permission.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant every query of this request is scoped to.
    pub tenant: TenantId,
    /// Who, for audit trails: `api-key:<prefix>` or `user:<email>`.
    pub actor: String,
    /// The member's or key's role in the tenant, as of this request.
    pub role: Role,
    /// The member or key itself.
    pub principal: Principal,
}

/// Who a caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A person signed in to the dashboard.
    Member(UserId),
    /// An API key.
    ApiKey(ApiKeyId),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Fail closed: a route registered around `access::Routes` has no guard.
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!(
                "{} {} declares no access: register it through access::Routes",
                parts.method,
                parts.uri.path()
            ))
        })
    }
}

/// The caller an `Authorization: Bearer <api key>` header names.
pub(crate) async fn authenticate_bearer(
    parts: &Parts,
    state: &AppState,
) -> Result<Caller, ApiError> {
    let header =
        parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "send `Authorization: Bearer <api key>`",
            ))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthorized(
            "the Authorization header must be `Bearer <api key>`",
        ))?;
    authenticate_api_key(state, token).await
}

async fn authenticate_api_key(state: &AppState, token: &str) -> Result<Caller, ApiError> {
    const INVALID: ApiError = ApiError::Unauthorized("the API key is invalid or revoked");
    let parsed = mcpgate_auth::ApiKey::parse(token).map_err(|_| INVALID)?;
    let found = accounts::api_key_by_prefix(&state.db, parsed.prefix())
        .await?
        .ok_or(INVALID)?;
    if !parsed.matches(&found.key_hash) {
        return Err(INVALID);
    }
    accounts::touch_api_key(&state.db, found.id).await?;
    Ok(Caller {
        tenant: found.tenant_id,
        actor: format!("api-key:{}", parsed.prefix()),
        role: found.role,
        principal: Principal::ApiKey(found.id),
    })
}
