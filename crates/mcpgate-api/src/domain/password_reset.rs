//! Password reset by link: made by a tenant's admin for one of its members (shown
//! once to the admin), or asked for on the sign-in page and mailed to the address.
//! A link is single-use and lasts [`RESET_MINUTES`]; using it sets a new password
//! (the sign-up rules) and ends every session of the person, in every tenant.

use chrono::{DateTime, Duration, Utc};
use mcpgate_store::password_resets::{self, NewPasswordReset, UsedReset};
use mcpgate_store::sessions::{self, LoginAttempt};
use mcpgate_store::{accounts, members, UserId};
use serde::Serialize;

use crate::error::ApiError;
use crate::extract::Caller;
use crate::mail::Mail;
use crate::state::AppState;

/// How long a reset link works.
pub const RESET_MINUTES: i64 = 30;

/// Links mailed per address within [`REQUEST_WINDOW_SECS`], whoever asks.
const REQUESTS_PER_ADDRESS: u64 = 3;
const REQUEST_WINDOW_SECS: u64 = 60 * 60;

/// A new reset link, shown this once to the admin who made it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedReset {
    pub user_id: UserId,
    pub email: String,
    /// The single-use link to give the person; only its hash is stored.
    pub link: String,
    pub expires_at: DateTime<Utc>,
}

fn reset_link(state: &AppState, token: &str) -> String {
    format!("{}/reset-password/{token}", state.urls.api)
}

async fn store_link(
    state: &AppState,
    user: UserId,
    requested_by: String,
    tenant: Option<mcpgate_store::TenantId>,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let token = mcpgate_auth::random_token(32);
    let expires_at = Utc::now() + Duration::minutes(RESET_MINUTES);
    password_resets::create_reset(
        &state.db,
        &NewPasswordReset {
            user,
            token: token.clone(),
            requested_by,
            tenant,
            expires_at,
        },
    )
    .await?;
    Ok((reset_link(state, &token), expires_at))
}

/// An admin makes a reset link for a member of their tenant.
///
/// A password is the person's in every tenant they belong to, so the link would let
/// this tenant's admin into the others: a member of another tenant too is refused
/// (409 `member_of_other_tenants`) and resets through the mailed form instead.
pub async fn issue_for_member(
    state: &AppState,
    caller: &Caller,
    user: UserId,
) -> Result<IssuedReset, ApiError> {
    let memberships = members::memberships_of(&state.db, user).await?;
    if !memberships.iter().any(|m| m.tenant_id == caller.tenant) {
        return Err(ApiError::NotFound("member"));
    }
    if memberships.iter().any(|m| m.tenant_id != caller.tenant) {
        return Err(ApiError::Conflict {
            code: "member_of_other_tenants",
            message: "this person belongs to other tenants too: they reset their password \
                      with the 'forgot password' form on the sign-in page"
                .into(),
        });
    }
    let email = password_resets::account_email(&state.db, user).await?;
    let (link, expires_at) =
        store_link(state, user, caller.actor.clone(), Some(caller.tenant)).await?;
    Ok(IssuedReset {
        user_id: user,
        email,
        link,
        expires_at,
    })
}

/// What the forgot-password form concluded; the page answers the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRequest {
    /// Handled: mailed if the address has an account, nothing otherwise.
    Accepted,
    /// Too many requests for this address lately.
    Limited { retry_after_secs: u64 },
}

/// Someone asks for a link to `email` on the sign-in page. Counted per address
/// (whether or not it has an account, so the limit tells nothing either); mailed in
/// the background, so the answer takes as long with or without an account.
pub async fn request_by_mail(state: &AppState, email: &str) -> Result<ResetRequest, ApiError> {
    let Some(mailer) = &state.mailer else {
        return Err(ApiError::NotFound(
            "password reset by mail (no SMTP server is configured)",
        ));
    };
    let address = email.trim().to_lowercase();
    if !address.contains('@') {
        return Err(ApiError::invalid("/email", "an email address"));
    }
    let limit_key = format!("dashboard:password-reset-requests:{address}");
    if let LoginAttempt::Refused { retry_after_secs } = sessions::reserve_login_attempt(
        &state.redis,
        &limit_key,
        REQUESTS_PER_ADDRESS,
        REQUEST_WINDOW_SECS,
    )
    .await?
    {
        return Ok(ResetRequest::Limited { retry_after_secs });
    }
    let Some(account) = accounts::user_credentials(&state.db, &address).await? else {
        return Ok(ResetRequest::Accepted);
    };
    // The mail goes to the address as stored, not as typed.
    let stored_email = password_resets::account_email(&state.db, account.id).await?;
    let (link, _) = store_link(state, account.id, "self".into(), None).await?;
    mailer.send_in_background(Mail {
        to: stored_email,
        subject: "Reset your mcpgate password".into(),
        text: format!(
            "Someone (hopefully you) asked to reset the password of this mcpgate account.\n\n\
             Set a new password here within {RESET_MINUTES} minutes; the link works once:\n\n\
             {link}\n\n\
             Using it signs you out everywhere. If you did not ask, ignore this mail: \
             your password stays as it is.\n"
        ),
    });
    Ok(ResetRequest::Accepted)
}

/// Uses a link: validates and hashes the new password, then sets it and ends every
/// session of the person.
pub async fn reset(state: &AppState, token: &str, password: String) -> Result<UsedReset, ApiError> {
    mcpgate_auth::validate_password(&password)
        .map_err(|error| ApiError::invalid("/password", error.to_string()))?;
    let hash = state.passwords.hash(password).await?;
    password_resets::reset_password(&state.db, token, &hash)
        .await
        .map_err(|error| crate::domain::not_found_as(error, "reset link (it has expired)"))
}
