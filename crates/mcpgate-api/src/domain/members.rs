//! Inviting people and changing who is in a tenant.

use chrono::{Duration, Utc};
use mcpgate_store::members::{self, Invitation, NewInvitation};
use mcpgate_store::Role;
use serde::Serialize;

use crate::domain::accounts::validate_email;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::state::AppState;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

/// A new invitation with its link, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedInvitation {
    pub invitation: Invitation,
    /// The single-use link to send the person; only its hash is stored.
    pub link: String,
}

/// Invites `email` into the caller's tenant as `role`.
pub async fn invite(
    state: &AppState,
    caller: &Caller,
    email: &str,
    role: Role,
) -> Result<IssuedInvitation, ApiError> {
    let email = validate_email(email)?;
    let token = mcpgate_auth::random_token(32);
    let invitation = members::create_invitation(
        &state.db,
        caller.tenant,
        &NewInvitation {
            email,
            role,
            token: token.clone(),
            invited_by: caller.actor.clone(),
            expires_at: Utc::now() + Duration::days(INVITATION_DAYS),
        },
    )
    .await?;
    Ok(IssuedInvitation {
        invitation,
        link: invitation_link(state, &token),
    })
}

/// Where an invitation's token is accepted.
pub fn invitation_link(state: &AppState, token: &str) -> String {
    format!("{}/join/{token}", state.urls.api)
}
