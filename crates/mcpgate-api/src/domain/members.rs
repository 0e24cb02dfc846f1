//! Inviting people and changing who is in a tenant.

use chrono::{Duration, Utc};
use mcpgate_store::members::{self, Invitation, NewInvitation};
use mcpgate_store::Role;
use serde::Serialize;

use crate::domain::accounts::validate_email;
use crate::error::ApiError;
use crate::extract::Caller;
use crate::mail::Mail;
use crate::state::AppState;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

/// A new invitation with its link, shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedInvitation {
    pub invitation: Invitation,
    /// The single-use link to send the person; only its hash is stored.
    pub link: String,
    /// Whether the link is also being mailed to the address (an SMTP server is
    /// configured); delivery happens in the background.
    pub emailed: bool,
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
    let link = invitation_link(state, &token);
    let emailed = match &state.mailer {
        Some(mailer) => {
            let tenant = mcpgate_store::accounts::tenant(&state.db, caller.tenant).await?;
            mailer.send_in_background(Mail {
                to: invitation.email.clone(),
                subject: format!("You are invited to {} on mcpgate", tenant.name),
                text: format!(
                    "{} invited you to join {} on mcpgate as {}.\n\n\
                     Accept within {INVITATION_DAYS} days (the link works once):\n\n{link}\n",
                    caller.actor.trim_start_matches("user:"),
                    tenant.name,
                    invitation.role,
                ),
            })
        }
        None => false,
    };
    Ok(IssuedInvitation {
        invitation,
        link,
        emailed,
    })
}

/// Where an invitation's token is accepted.
pub fn invitation_link(state: &AppState, token: &str) -> String {
    format!("{}/join/{token}", state.urls.api)
}
