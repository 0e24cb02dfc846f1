//! Signing up and API keys.

use mcpgate_auth::ApiKey;
use mcpgate_store::accounts::{self, NewApiKey, NewSignup, Tenant, User};
use mcpgate_store::{Role, TenantId};
use serde::Serialize;

use crate::error::ApiError;
use crate::state::AppState;

/// What a person fills in to sign up.
#[derive(Debug)]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub tenant_name: String,
}

/// A new API key, with its secret shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: accounts::ApiKey,
    /// The key itself: shown once, never stored.
    pub key_secret: String,
}

/// The result of a sign-up.
#[derive(Debug)]
pub struct SignedUp {
    pub tenant: Tenant,
    pub user: User,
    pub api_key: CreatedApiKey,
}

/// Creates the tenant, its owner and a first API key.
pub async fn sign_up(state: &AppState, request: SignupRequest) -> Result<SignedUp, ApiError> {
    let email = validate_email(&request.email)?;
    let tenant_name = validate_name("/tenant_name", &request.tenant_name, 100)?;
    mcpgate_auth::validate_password(&request.password)
        .map_err(|error| ApiError::invalid("/password", error.to_string()))?;
    // Bounded: at most as many hashes at once as there are permits, else 503.
    let password_hash = state.passwords.hash(request.password).await?;
    let key = ApiKey::generate();
    let (tenant, user, stored_key) = accounts::sign_up(
        &state.db,
        &NewSignup {
            tenant_name,
            email,
            password_hash,
            first_key: NewApiKey {
                name: "first key".into(),
                prefix: key.prefix().to_owned(),
                hash: key.hash().to_vec(),
            },
        },
    )
    .await?;
    Ok(SignedUp {
        tenant,
        user,
        api_key: CreatedApiKey {
            key: stored_key,
            key_secret: key.plaintext().to_owned(),
        },
    })
}

/// Makes and stores a new API key for the tenant, with `role`'s permissions.
pub async fn new_api_key(
    state: &AppState,
    tenant: TenantId,
    name: &str,
    role: Role,
) -> Result<CreatedApiKey, ApiError> {
    let name = validate_name("/name", name, 100)?;
    let key = ApiKey::generate();
    let stored = accounts::create_api_key(
        &state.db,
        tenant,
        &NewApiKey {
            name,
            prefix: key.prefix().to_owned(),
            hash: key.hash().to_vec(),
        },
        role,
    )
    .await?;
    Ok(CreatedApiKey {
        key: stored,
        key_secret: key.plaintext().to_owned(),
    })
}

/// A trimmed, non-empty name of at most `max` characters.
pub fn validate_name(path: &str, name: &str, max: usize) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid(path, "must not be empty"));
    }
    if name.chars().count() > max {
        return Err(ApiError::invalid(
            path,
            format!("must be at most {max} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            path,
            "must not contain control characters",
        ));
    }
    Ok(name.to_owned())
}

/// A trimmed address shaped like `ada@example.com`.
pub fn validate_email(email: &str) -> Result<String, ApiError> {
    let email = email.trim();
    let shaped = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if shaped {
        Ok(email.to_owned())
    } else {
        Err(ApiError::invalid(
            "/email",
            "must be an email address like ada@example.com",
        ))
    }
}
