//! What a tenant admin sets for single sign-on, validated in one place for the REST
//! route and the dashboard form, and what is shown back (never the client secret).

use chrono::{DateTime, Utc};
use mcpgate_store::sso::{self, NewSsoConfig, SsoConfig};
use mcpgate_store::{Role, StoreError, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::provider;
use crate::error::ApiError;
use crate::state::AppState;

/// The tenant's single sign-on, as set.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SsoInput {
    /// The OpenID provider's issuer, exactly as its ID tokens name it
    /// (`https://login.example.com`).
    pub(crate) issuer: String,
    /// mcpgate's client id at the provider.
    pub(crate) client_id: String,
    /// mcpgate's client secret at the provider; required the first time, kept when
    /// left out later.
    #[serde(default)]
    pub(crate) client_secret: Option<String>,
    /// The email domain whose people sign in here (`example.com`); one tenant per domain.
    pub(crate) email_domain: String,
    /// Refuse password logins to this tenant: its members sign in only with SSO.
    #[serde(default)]
    pub(crate) sso_only: bool,
    /// Auto-join: a person whose verified address is of `email_domain` becomes a member
    /// with this role at their first sign-in. `null` (the default): only members sign in.
    #[serde(default)]
    pub(crate) auto_join_role: Option<Role>,
}

/// The tenant's single sign-on as shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct SsoSettings {
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    /// Always `true`: the secret is stored sealed and never shown.
    pub(crate) client_secret_set: bool,
    pub(crate) email_domain: String,
    pub(crate) sso_only: bool,
    pub(crate) auto_join_role: Option<Role>,
    /// The redirect URI to register at the provider.
    pub(crate) redirect_uri: String,
    pub(crate) updated_at: DateTime<Utc>,
}

/// The callback every provider redirects to.
pub(crate) fn redirect_uri(state: &AppState) -> String {
    format!("{}/sso/callback", state.urls.api)
}

impl SsoSettings {
    pub(crate) fn of(state: &AppState, config: SsoConfig) -> Self {
        SsoSettings {
            issuer: config.issuer,
            client_id: config.client_id,
            client_secret_set: true,
            email_domain: config.email_domain,
            sso_only: config.sso_only,
            auto_join_role: config.auto_join_role,
            redirect_uri: redirect_uri(state),
            updated_at: config.updated_at,
        }
    }
}

/// The tenant's settings, if set.
pub(crate) async fn show(
    state: &AppState,
    tenant: TenantId,
) -> Result<Option<SsoSettings>, ApiError> {
    Ok(sso::config(&state.db, tenant)
        .await?
        .map(|config| SsoSettings::of(state, config)))
}

/// Checks `input`, reads the issuer's discovery document (so a typo shows now, not
/// at the first sign-in), seals the secret and stores the settings.
pub(crate) async fn save(
    state: &AppState,
    tenant: TenantId,
    input: SsoInput,
) -> Result<SsoSettings, ApiError> {
    let mut problems = Vec::new();
    let issuer = input.issuer.trim().to_owned();
    if let Err(reason) = provider::issuer_url(&issuer) {
        problems.push(json!({"path": "/issuer", "message": reason}));
    }
    let client_id = input.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 255 {
        problems.push(
            json!({"path": "/client_id", "message": "give the client id (1 to 255 characters)"}),
        );
    }
    let domain = input
        .email_domain
        .trim()
        .trim_start_matches('@')
        .to_lowercase();
    let domain_ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !domain_ok {
        problems
            .push(json!({"path": "/email_domain", "message": "give a domain such as example.com"}));
    }
    let existing = sso::config(&state.db, tenant).await?;
    let secret = input
        .client_secret
        .filter(|secret| !secret.is_empty())
        .map(String::into_bytes);
    let sealed = match (&secret, &existing) {
        (Some(secret), _) => Some(
            state
                .keys
                .credentials
                .seal_sso_client_secret(tenant.as_uuid(), secret),
        ),
        (None, Some(existing)) => Some(existing.client_secret_sealed.clone()),
        (None, None) => {
            problems.push(json!({"path": "/client_secret", "message": "give the client secret"}));
            None
        }
    };
    if !problems.is_empty() {
        return Err(ApiError::Validation {
            code: "invalid_sso_settings",
            message: "the single sign-on settings are not valid".to_owned(),
            details: json!(problems),
        });
    }
    let client = provider::client(&state.upstreams)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!(e.to_string())))?;
    if let Err(refusal) = provider::discover(&client, &issuer).await {
        return Err(ApiError::Validation {
            code: "invalid_sso_settings",
            message: refusal.to_string(),
            details: json!([{"path": "/issuer", "message": refusal.to_string()}]),
        });
    }
    let sealed = sealed.unwrap_or_default();
    let saved = sso::put_config(
        &state.db,
        tenant,
        &NewSsoConfig {
            issuer: &issuer,
            client_id: &client_id,
            client_secret_sealed: &sealed,
            email_domain: &domain,
            sso_only: input.sso_only,
            auto_join_role: input.auto_join_role,
        },
    )
    .await
    .map_err(|error| match error {
        StoreError::Conflict { constraint } if constraint == "tenant_sso_domain_key" => {
            ApiError::Conflict {
                code: "sso_domain_taken",
                message: format!("another tenant signs in people of {domain}"),
            }
        }
        other => other.into(),
    })?;
    crate::access::trail::note(json!({
        "issuer": saved.issuer,
        "client_id": saved.client_id,
        "client_secret_changed": secret.is_some(),
        "email_domain": saved.email_domain,
        "sso_only": saved.sso_only,
        "auto_join_role": saved.auto_join_role,
    }));
    Ok(SsoSettings::of(state, saved))
}

/// Turns single sign-on off for the tenant.
pub(crate) async fn remove(state: &AppState, tenant: TenantId) -> Result<(), ApiError> {
    if !sso::delete_config(&state.db, tenant).await? {
        return Err(ApiError::NotFound("single sign-on settings"));
    }
    crate::access::trail::note(json!({"removed": true}));
    Ok(())
}
