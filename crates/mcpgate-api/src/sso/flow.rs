//! A sign-in: [`start`] records an authorization request (state, nonce, PKCE
//! verifier) and names where to send the browser; [`finish`] takes that request once
//! (a replayed state finds nothing), trades the code, verifies the ID token and finds
//! the member the verified email is.

use chrono::{Duration, Utc};
use mcpgate_auth::{constant_time_eq, verify_id_token, IdTokenExpectations};
use mcpgate_store::sso::{self, SsoConfig, SsoLogin};
use mcpgate_store::{TenantId, UserId};
use mcpgate_upstream::upstream_oauth::{random_state, state_hash, Pkce};

use super::provider::{self, AuthorizationRequest};
use super::settings::redirect_uri;
use super::SsoRefusal;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a sign-in may take at the provider.
pub(crate) const LOGIN_MINUTES: i64 = 10;

/// Who asks to sign in with SSO: an email (its domain picks the tenant).
#[derive(Debug)]
pub(crate) struct Started {
    /// Where to send the browser.
    pub(crate) authorization_url: String,
    /// The state, which the browser also keeps in a cookie until the callback.
    pub(crate) state: String,
}

/// Failures: the person's refusal, or our own fault.
#[derive(Debug)]
pub(crate) enum FlowError {
    Refused(SsoRefusal),
    Internal(ApiError),
}

impl From<SsoRefusal> for FlowError {
    fn from(refusal: SsoRefusal) -> Self {
        FlowError::Refused(refusal)
    }
}

impl From<mcpgate_store::StoreError> for FlowError {
    fn from(error: mcpgate_store::StoreError) -> Self {
        FlowError::Internal(error.into())
    }
}

/// Starts a sign-in for `email`.
pub(crate) async fn start(state: &AppState, email: &str) -> Result<Started, FlowError> {
    let email = email.trim();
    let domain = email
        .rsplit_once('@')
        .map(|(_, domain)| domain)
        .filter(|domain| !domain.is_empty())
        .unwrap_or(email);
    let config = sso::config_for_domain(&state.db, domain)
        .await?
        .ok_or_else(|| SsoRefusal::NotConfigured(domain.to_owned()))?;
    let client = provider::client(&state.upstreams)?;
    let found = provider::discover(&client, &config.issuer).await?;
    let login_state = random_state();
    let nonce = random_state();
    let pkce = Pkce::generate();
    sso::begin_login(
        &state.db,
        &state_hash(&login_state),
        &SsoLogin {
            tenant_id: config.tenant_id,
            nonce: nonce.clone(),
            code_verifier: pkce.verifier.clone(),
        },
        Utc::now() + Duration::minutes(LOGIN_MINUTES),
    )
    .await?;
    let redirect = redirect_uri(state);
    let authorization_url = provider::authorization_url(
        &found,
        &AuthorizationRequest {
            client_id: &config.client_id,
            redirect_uri: &redirect,
            state: &login_state,
            nonce: &nonce,
            code_challenge: &pkce.challenge,
            login_hint: email.contains('@').then_some(email),
        },
    )?;
    Ok(Started {
        authorization_url,
        state: login_state,
    })
}

/// What the provider sent back to the callback.
#[derive(Debug)]
pub(crate) struct Callback<'a> {
    pub(crate) code: &'a str,
    pub(crate) state: &'a str,
    /// The state the browser's cookie holds: the callback must come back to the
    /// browser that started the sign-in.
    pub(crate) browser_state: Option<&'a str>,
}

/// Who signed in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedIn {
    pub(crate) tenant: TenantId,
    pub(crate) user: UserId,
}

/// Finishes a sign-in.
pub(crate) async fn finish(
    state: &AppState,
    callback: &Callback<'_>,
) -> Result<SignedIn, FlowError> {
    let same_browser = callback
        .browser_state
        .is_some_and(|kept| constant_time_eq(kept.as_bytes(), callback.state.as_bytes()));
    if !same_browser {
        return Err(SsoRefusal::UnknownState.into());
    }
    // Deleted as it is read: the second callback with this state finds nothing.
    let login = sso::take_login(&state.db, &state_hash(callback.state))
        .await?
        .ok_or(SsoRefusal::UnknownState)?;
    let config = sso::config(&state.db, login.tenant_id)
        .await?
        .ok_or_else(|| SsoRefusal::NotConfigured("this tenant".to_owned()))?;
    let secret = client_secret(state, &config)?;
    let client = provider::client(&state.upstreams)?;
    let found = provider::discover(&client, &config.issuer).await?;
    let id_token = provider::exchange_code(
        &client,
        &found,
        &config.client_id,
        &secret,
        callback.code,
        &login.code_verifier,
        &redirect_uri(state),
    )
    .await?;
    let expected = IdTokenExpectations {
        issuer: &config.issuer,
        client_id: &config.client_id,
        nonce: &login.nonce,
    };
    let identity = state
        .sso_keys
        .verify(&client, &found, std::time::Instant::now(), |keys| {
            verify_id_token(&id_token, keys, &expected)
        })
        .await?;
    let user = match sso::member_by_email(&state.db, config.tenant_id, &identity.email).await? {
        Some(user) => user,
        None => match config.auto_join_role {
            Some(role) if domain_of(&identity.email) == config.email_domain => {
                sso::auto_join(&state.db, config.tenant_id, &identity.email, role).await?
            }
            _ => return Err(SsoRefusal::NotAMember(identity.email).into()),
        },
    };
    Ok(SignedIn {
        tenant: config.tenant_id,
        user,
    })
}

fn client_secret(state: &AppState, config: &SsoConfig) -> Result<String, FlowError> {
    let opened = state
        .keys
        .credentials
        .open_sso_client_secret(config.tenant_id.as_uuid(), &config.client_secret_sealed)
        .map_err(|error| {
            FlowError::Internal(ApiError::Internal(anyhow::anyhow!(
                "opening the SSO client secret: {error}"
            )))
        })?;
    String::from_utf8(opened).map_err(|_| {
        FlowError::Internal(ApiError::Internal(anyhow::anyhow!(
            "the SSO client secret is not UTF-8"
        )))
    })
}

fn domain_of(email: &str) -> String {
    email
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_lowercase())
        .unwrap_or_default()
}
