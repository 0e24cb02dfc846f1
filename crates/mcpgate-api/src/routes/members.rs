//! A tenant's members and invitations: `/members`, `/members/{id}`, `/invitations`,
//! `/invitations/{id}`. Accepting an invitation happens in the dashboard, at its link.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use mcpgate_store::members::{self, Invitation, Member};
use mcpgate_store::{InvitationId, Role, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::access::trail::with_changes;
use crate::access::{Permission, Routes};
use crate::domain::members::{invite, IssuedInvitation};
use crate::domain::not_found_as;
use crate::domain::password_reset::{issue_for_member, IssuedReset};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody, PathParams};
use crate::openapi::schemas::{BadRequest, ErrorBody, Invalid, NotFound, PayloadTooLarge};
use crate::state::AppState;

pub(crate) fn router() -> Routes {
    Routes::api()
        .get("/members", Permission::ViewMembers, list)
        .patch("/members/{id}", Permission::ManageMembers, change_role)
        .delete("/members/{id}", Permission::ManageMembers, remove)
        .post(
            "/members/{id}/password-reset",
            Permission::ManageMembers,
            create_password_reset,
        )
        .get("/invitations", Permission::ManageMembers, invitations)
        .post("/invitations", Permission::ManageMembers, create_invitation)
        .delete(
            "/invitations/{id}",
            Permission::ManageMembers,
            revoke_invitation,
        )
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list,
    change_role,
    remove,
    create_password_reset,
    invitations,
    create_invitation,
    revoke_invitation
))]
pub(super) struct Api;

/// The tenant's members.
#[derive(Debug, Serialize, ToSchema)]
struct MemberList {
    members: Vec<Member>,
}

#[utoipa::path(
    get,
    path = "/api/v1/members",
    tag = "members",
    operation_id = "list_members",
    summary = "List members",
    description = "Everyone in the tenant, with their role, oldest first.",
    responses((status = 200, description = "The members", body = MemberList)),
    security(("api_key" = []))
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<MemberList>, ApiError> {
    let members = members::list_members(&state.db, caller.tenant).await?;
    Ok(Json(MemberList { members }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChangeRole)]
struct RoleBody {
    role: Role,
}

#[utoipa::path(
    patch,
    path = "/api/v1/members/{id}",
    tag = "members",
    operation_id = "change_member_role",
    summary = "Change a member's role",
    description = "Takes effect on the member's next request. The last admin cannot be demoted \
        (409 `last_admin`).",
    params(("id" = UserId, Path, description = "The member's user id")),
    request_body = RoleBody,
    responses(
        (status = 200, description = "The member with the new role", body = Member),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
        (status = 409, description = "The last admin (`last_admin`)", body = ErrorBody),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
    ),
    security(("api_key" = []))
)]
async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<UserId>,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Response, ApiError> {
    let (before, after) = members::change_role(&state.db, caller.tenant, id, body.role)
        .await
        .map_err(|e| not_found_as(e, "member"))?;
    let changes = json!({"email": after.email, "role": {"from": before.role, "to": after.role}});
    Ok(with_changes(Json(after).into_response(), changes))
}

#[utoipa::path(
    delete,
    path = "/api/v1/members/{id}",
    tag = "members",
    operation_id = "remove_member",
    summary = "Remove a member",
    description = "Their dashboard sessions in this tenant end; their next request is refused. \
        The last admin cannot be removed (409 `last_admin`).",
    params(("id" = UserId, Path, description = "The member's user id")),
    responses(
        (status = 200, description = "Who was removed", body = Member),
        (status = 404, response = NotFound),
        (status = 409, description = "The last admin (`last_admin`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<UserId>,
) -> Result<Response, ApiError> {
    let removed = members::remove_member(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "member"))?;
    let changes = json!({"email": removed.email, "role": removed.role});
    Ok(with_changes(Json(removed).into_response(), changes))
}

#[utoipa::path(
    post,
    path = "/api/v1/members/{id}/password-reset",
    tag = "members",
    operation_id = "create_password_reset",
    summary = "Make a password reset link for a member",
    description = "A single-use link, valid for 30 minutes, shown only in this answer (the \
        admin trail records that it was made, never the link): the member sets a new password \
        there and every session of theirs ends. A person who also belongs to other tenants is \
        refused (409 `member_of_other_tenants`): the link would reach those tenants too; they \
        use 'forgot password' on the sign-in page.",
    params(("id" = UserId, Path, description = "The member's user id")),
    responses(
        (status = 201, description = "The link", body = IssuedReset),
        (status = 404, response = NotFound),
        (status = 409, description = "A member of other tenants too (`member_of_other_tenants`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn create_password_reset(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<UserId>,
) -> Result<Response, ApiError> {
    let issued = issue_for_member(&state, &caller, id).await?;
    let changes =
        json!({"email": issued.email, "password_reset": {"expires_at": issued.expires_at}});
    Ok(with_changes(
        (StatusCode::CREATED, Json(issued)).into_response(),
        changes,
    ))
}

/// The tenant's invitations.
#[derive(Debug, Serialize, ToSchema)]
struct InvitationList {
    invitations: Vec<Invitation>,
}

#[utoipa::path(
    get,
    path = "/api/v1/invitations",
    tag = "members",
    operation_id = "list_invitations",
    summary = "List invitations",
    description = "Newest first, used, revoked and expired ones included; never their links.",
    responses((status = 200, description = "The invitations", body = InvitationList)),
    security(("api_key" = []))
)]
async fn invitations(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<InvitationList>, ApiError> {
    let invitations = members::list_invitations(&state.db, caller.tenant).await?;
    Ok(Json(InvitationList { invitations }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateInvitation)]
struct InviteBody {
    /// The person's address; they accept with an account of this address.
    email: String,
    role: Role,
}

#[utoipa::path(
    post,
    path = "/api/v1/invitations",
    tag = "members",
    operation_id = "create_invitation",
    summary = "Invite someone",
    description = "A single-use link, valid for 7 days, shown only in this answer: send it to \
        the person, who signs up or signs in with the invited address to join.",
    request_body = InviteBody,
    responses(
        (status = 201, description = "The invitation and its link", body = IssuedInvitation),
        (status = 400, response = BadRequest),
        (status = 413, response = PayloadTooLarge),
        (status = 422, response = Invalid),
    ),
    security(("api_key" = []))
)]
async fn create_invitation(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<InviteBody>,
) -> Result<Response, ApiError> {
    let issued = invite(&state, &caller, &body.email, body.role).await?;
    let changes = json!({
        "invitation": issued.invitation.id,
        "email": issued.invitation.email,
        "role": issued.invitation.role,
    });
    Ok(with_changes(
        (StatusCode::CREATED, Json(issued)).into_response(),
        changes,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/v1/invitations/{id}",
    tag = "members",
    operation_id = "revoke_invitation",
    summary = "Revoke an invitation",
    description = "Its link stops working. Used or revoked invitations are not found.",
    params(("id" = InvitationId, Path, description = "The invitation's id")),
    responses(
        (status = 200, description = "The revoked invitation", body = Invitation),
        (status = 404, response = NotFound),
    ),
    security(("api_key" = []))
)]
async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(id): PathParams<InvitationId>,
) -> Result<Response, ApiError> {
    let revoked = members::revoke_invitation(&state.db, caller.tenant, id)
        .await
        .map_err(|e| not_found_as(e, "invitation"))?;
    let changes = json!({"email": revoked.email, "role": revoked.role});
    Ok(with_changes(Json(revoked).into_response(), changes))
}
