//! Members: the list with each role, inviting (the link shown once), changing a
//! role, removing someone, revoking an invitation.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use mcpgate_store::members::{self, Invitation, Member};
use mcpgate_store::{InvitationId, Role, UserId};
use serde::Deserialize;
use serde_json::json;

use crate::access::trail::with_changes;
use crate::dashboard::auth::EmptyForm;
use crate::dashboard::grants::time;
use crate::dashboard::page::{form_errors, render, render_with, FieldError, PageError};
use crate::dashboard::session::{CsrfForm, Nav, UserSession};
use crate::domain::members::invite as invite_member;
use crate::domain::not_found_as;
use crate::domain::password_reset::issue_for_member;
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    nav: Nav,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    roles: Vec<String>,
    new_link: Option<String>,
    /// Whether the invitation link was also mailed.
    emailed: bool,
    /// A password reset link just made: `(email, link)`, shown this once.
    reset_link: Option<(String, String)>,
    errors: Vec<FieldError>,
}

struct MemberRow {
    member: Member,
    joined: String,
    is_you: bool,
}

struct InvitationRow {
    invitation: Invitation,
    status: &'static str,
    expires: String,
}

async fn page(state: &AppState, session: &UserSession) -> Result<MembersPage, PageError> {
    let members = members::list_members(&state.db, session.caller.tenant)
        .await?
        .into_iter()
        .map(|member| MemberRow {
            joined: time(member.joined_at),
            is_you: member.user_id == session.user,
            member,
        })
        .collect();
    let nav = session.nav("members");
    // Only admins see (and may use) the invitations.
    let invitations = if nav.can.manage_members {
        members::list_invitations(&state.db, session.caller.tenant)
            .await?
            .into_iter()
            .map(|invitation| InvitationRow {
                status: if invitation.accepted_at.is_some() {
                    "accepted"
                } else if invitation.revoked_at.is_some() {
                    "revoked"
                } else if invitation.expires_at <= chrono::Utc::now() {
                    "expired"
                } else {
                    "open"
                },
                expires: time(invitation.expires_at),
                invitation,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(MembersPage {
        nav,
        members,
        invitations,
        roles: Role::ALL
            .iter()
            .map(|role| role.as_str().to_owned())
            .collect(),
        new_link: None,
        emailed: false,
        reset_link: None,
        errors: Vec::new(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    session: UserSession,
) -> Result<Response, PageError> {
    render(&page(&state, &session).await?)
}

#[derive(Debug, Deserialize)]
pub(crate) struct InviteForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

fn parse_role(text: &str) -> Result<Role, ApiError> {
    text.parse()
        .map_err(|error: mcpgate_store::UnknownRole| ApiError::invalid("/role", error.to_string()))
}

pub(crate) async fn invite(
    State(state): State<AppState>,
    CsrfForm { session, form, .. }: CsrfForm<InviteForm>,
) -> Result<Response, PageError> {
    let issued = match parse_role(&form.role) {
        Ok(role) => invite_member(&state, &session.caller, &form.email, role).await,
        Err(error) => Err(error),
    };
    match issued {
        Ok(issued) => {
            let changes = json!({
                "invitation": issued.invitation.id,
                "email": issued.invitation.email,
                "role": issued.invitation.role,
            });
            let mut shown = page(&state, &session).await?;
            shown.new_link = Some(issued.link);
            shown.emailed = issued.emailed;
            Ok(with_changes(
                render_with(StatusCode::CREATED, &shown)?,
                changes,
            ))
        }
        Err(error) => {
            let errors = form_errors(error)?;
            let mut shown = page(&state, &session).await?;
            shown.errors = errors;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &shown)
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RoleForm {
    #[serde(default)]
    role: String,
}

pub(crate) async fn change_role(
    State(state): State<AppState>,
    PathParams(id): PathParams<UserId>,
    CsrfForm { session, form, .. }: CsrfForm<RoleForm>,
) -> Result<Response, PageError> {
    let role = parse_role(&form.role)?;
    let (before, after) = members::change_role(&state.db, session.caller.tenant, id, role)
        .await
        .map_err(|e| not_found_as(e, "member"))?;
    let changes = json!({"email": after.email, "role": {"from": before.role, "to": after.role}});
    Ok(with_changes(
        Redirect::to("/members").into_response(),
        changes,
    ))
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    PathParams(id): PathParams<UserId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let removed = members::remove_member(&state.db, session.caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "member"))?;
    let changes = json!({"email": removed.email, "role": removed.role});
    Ok(with_changes(
        Redirect::to("/members").into_response(),
        changes,
    ))
}

pub(crate) async fn password_reset(
    State(state): State<AppState>,
    PathParams(id): PathParams<UserId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let issued = issue_for_member(&state, &session.caller, id).await?;
    let changes =
        json!({"email": issued.email, "password_reset": {"expires_at": issued.expires_at}});
    let mut shown = page(&state, &session).await?;
    shown.reset_link = Some((issued.email, issued.link));
    Ok(with_changes(
        render_with(StatusCode::CREATED, &shown)?,
        changes,
    ))
}

pub(crate) async fn revoke_invitation(
    State(state): State<AppState>,
    PathParams(id): PathParams<InvitationId>,
    CsrfForm { session, .. }: CsrfForm<EmptyForm>,
) -> Result<Response, PageError> {
    let revoked = members::revoke_invitation(&state.db, session.caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "invitation"))?;
    let changes = json!({"email": revoked.email, "role": revoked.role});
    Ok(with_changes(
        Redirect::to("/members").into_response(),
        changes,
    ))
}
