//! A tenant's members (people, through memberships with a role) and its invitations.
//!
//! Every change to a tenant's memberships first locks the tenant's row, so two admins
//! demoting each other at once are serialised and the last admin is never lost.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Postgres, Transaction};

use crate::ids::{InvitationId, TenantId, UserId};
use crate::roles::Role;
use crate::StoreError;

/// The pseudo-constraint named when a change would leave a tenant without an admin.
pub const LAST_ADMIN: &str = "memberships_last_admin";
/// The pseudo-constraint named when an invitation was already used or revoked.
pub const INVITATION_USED: &str = "invitation_used";
/// The pseudo-constraint named when an invitation is for another email address.
pub const INVITATION_OTHER_EMAIL: &str = "invitation_other_email";

/// A member of a tenant.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// One tenant a person belongs to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Membership {
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub role: Role,
}

const MEMBER_COLUMNS: &str = "m.user_id, u.email, m.role, m.created_at AS joined_at";

/// The tenant's members, oldest first.
pub async fn list_members(pool: &PgPool, tenant: TenantId) -> Result<Vec<Member>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 ORDER BY m.created_at, m.user_id"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?)
}

/// The person's tenants, by name.
pub async fn memberships_of(pool: &PgPool, user: UserId) -> Result<Vec<Membership>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT m.tenant_id, t.name AS tenant_name, m.role FROM memberships m \
         JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = $1 ORDER BY t.name, t.id",
    )
    .bind(user)
    .fetch_all(pool)
    .await?)
}

async fn lock_tenant(
    tx: &mut Transaction<'_, Postgres>,
    tenant: TenantId,
) -> Result<(), StoreError> {
    sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
        .bind(tenant)
        .fetch_one(&mut **tx)
        .await?;
    Ok(())
}

async fn member_for_update(
    tx: &mut Transaction<'_, Postgres>,
    tenant: TenantId,
    user: UserId,
) -> Result<Member, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {MEMBER_COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.tenant_id = $1 AND m.user_id = $2 FOR UPDATE OF m"
    ))
    .bind(tenant)
    .bind(user)
    .fetch_one(&mut **tx)
    .await?)
}

/// Refuses to take the admin role from `member` when they are the tenant's only admin.
async fn keep_an_admin(
    tx: &mut Transaction<'_, Postgres>,
    tenant: TenantId,
    member: &Member,
) -> Result<(), StoreError> {
    if member.role != Role::Admin {
        return Ok(());
    }
    let admins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM memberships WHERE tenant_id = $1 AND role = 'admin'",
    )
    .bind(tenant)
    .fetch_one(&mut **tx)
    .await?;
    if admins <= 1 {
        return Err(StoreError::Conflict {
            constraint: LAST_ADMIN.into(),
        });
    }
    Ok(())
}

/// Gives a member another role; returns the member before and after. The last admin
/// cannot be demoted (`Conflict { constraint: LAST_ADMIN }`).
pub async fn change_role(
    pool: &PgPool,
    tenant: TenantId,
    user: UserId,
    role: Role,
) -> Result<(Member, Member), StoreError> {
    let mut tx = pool.begin().await?;
    lock_tenant(&mut tx, tenant).await?;
    let before = member_for_update(&mut tx, tenant, user).await?;
    if role != Role::Admin {
        keep_an_admin(&mut tx, tenant, &before).await?;
    }
    sqlx::query("UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let after = Member {
        role,
        ..before.clone()
    };
    Ok((before, after))
}

/// Removes a member from the tenant, which ends their sessions in it; returns who was
/// removed. The last admin cannot be removed (`Conflict { constraint: LAST_ADMIN }`).
pub async fn remove_member(
    pool: &PgPool,
    tenant: TenantId,
    user: UserId,
) -> Result<Member, StoreError> {
    let mut tx = pool.begin().await?;
    lock_tenant(&mut tx, tenant).await?;
    let member = member_for_update(&mut tx, tenant, user).await?;
    keep_an_admin(&mut tx, tenant, &member).await?;
    sqlx::query("DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant)
        .bind(user)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(member)
}

/// An invitation as listed (never its token).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    /// Who invited: `user:<email>` or `api-key:<prefix>`.
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

const INVITATION_COLUMNS: &str =
    "id, email, role, invited_by, created_at, expires_at, accepted_at, revoked_at";

/// What the store keeps of a new invitation.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub email: String,
    pub role: Role,
    /// The link's secret; only its SHA-256 (computed by Postgres) is stored.
    pub token: String,
    pub invited_by: String,
    pub expires_at: DateTime<Utc>,
}

/// Stores an invitation to the tenant.
pub async fn create_invitation(
    pool: &PgPool,
    tenant: TenantId,
    invitation: &NewInvitation,
) -> Result<Invitation, StoreError> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, expires_at) \
         VALUES ($1, $2, $3, $4, sha256(convert_to($5, 'UTF8')), $6, $7) \
         RETURNING {INVITATION_COLUMNS}"
    ))
    .bind(InvitationId::new())
    .bind(tenant)
    .bind(&invitation.email)
    .bind(invitation.role)
    .bind(&invitation.token)
    .bind(&invitation.invited_by)
    .bind(invitation.expires_at)
    .fetch_one(pool)
    .await?)
}

/// The tenant's invitations, newest first, used and revoked ones included.
pub async fn list_invitations(
    pool: &PgPool,
    tenant: TenantId,
) -> Result<Vec<Invitation>, StoreError> {
    Ok(sqlx::query_as(&format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE tenant_id = $1 ORDER BY id DESC"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await?)
}

/// Revokes an unused invitation; `NotFound` if the tenant has no such open invitation.
pub async fn revoke_invitation(
    pool: &PgPool,
    tenant: TenantId,
    id: InvitationId,
) -> Result<Invitation, StoreError> {
    Ok(sqlx::query_as(&format!(
        "UPDATE invitations SET revoked_at = now() \
         WHERE tenant_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL \
         RETURNING {INVITATION_COLUMNS}"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_one(pool)
    .await?)
}

/// An open invitation, as its link's page shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OpenInvitation {
    pub id: InvitationId,
    pub tenant_id: TenantId,
    pub tenant_name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// The unused, unrevoked, unexpired invitation whose link's secret is `token`.
pub async fn open_invitation(
    pool: &PgPool,
    token: &str,
) -> Result<Option<OpenInvitation>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT i.id, i.tenant_id, t.name AS tenant_name, i.email, i.role, i.expires_at \
         FROM invitations i JOIN tenants t ON t.id = i.tenant_id \
         WHERE i.token_hash = sha256(convert_to($1, 'UTF8')) AND i.accepted_at IS NULL \
           AND i.revoked_at IS NULL AND i.expires_at > now()",
    )
    .bind(token)
    .fetch_optional(pool)
    .await?)
}

/// Takes the invitation for `email` inside `tx`: `NotFound` if unknown or expired,
/// `INVITATION_USED` if used or revoked, `INVITATION_OTHER_EMAIL` for another address.
async fn claim(
    tx: &mut Transaction<'_, Postgres>,
    token: &str,
    email: &str,
) -> Result<OpenInvitation, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: InvitationId,
        tenant_id: TenantId,
        tenant_name: String,
        email: String,
        role: Role,
        expires_at: DateTime<Utc>,
        used: bool,
        expired: bool,
    }
    let row: Row = sqlx::query_as(
        "SELECT i.id, i.tenant_id, t.name AS tenant_name, i.email, i.role, i.expires_at, \
                (i.accepted_at IS NOT NULL OR i.revoked_at IS NOT NULL) AS used, \
                i.expires_at <= now() AS expired \
         FROM invitations i JOIN tenants t ON t.id = i.tenant_id \
         WHERE i.token_hash = sha256(convert_to($1, 'UTF8')) FOR UPDATE OF i",
    )
    .bind(token)
    .fetch_one(&mut **tx)
    .await?;
    let conflict = |constraint: &str| StoreError::Conflict {
        constraint: constraint.to_owned(),
    };
    if row.used {
        return Err(conflict(INVITATION_USED));
    }
    if row.expired {
        return Err(StoreError::NotFound);
    }
    if !row.email.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(conflict(INVITATION_OTHER_EMAIL));
    }
    Ok(OpenInvitation {
        id: row.id,
        tenant_id: row.tenant_id,
        tenant_name: row.tenant_name,
        email: row.email,
        role: row.role,
        expires_at: row.expires_at,
    })
}

async fn join(
    tx: &mut Transaction<'_, Postgres>,
    invitation: &OpenInvitation,
    user: UserId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1")
        .bind(invitation.id)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    // Someone already a member keeps the role they have.
    sqlx::query(
        "INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, user_id) DO NOTHING",
    )
    .bind(invitation.tenant_id)
    .bind(user)
    .bind(invitation.role)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// An existing person accepts an invitation for their address: they become a member.
pub async fn accept_invitation(
    pool: &PgPool,
    token: &str,
    user: UserId,
) -> Result<OpenInvitation, StoreError> {
    let mut tx = pool.begin().await?;
    let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(&mut *tx)
        .await?;
    let invitation = claim(&mut tx, token, &email).await?;
    join(&mut tx, &invitation, user).await?;
    tx.commit().await?;
    Ok(invitation)
}

/// A new person accepts an invitation by signing up: the account and the membership
/// are created together. A taken email is `Conflict { constraint: "users_email_key" }`.
pub async fn sign_up_invited(
    pool: &PgPool,
    token: &str,
    email: &str,
    password_hash: &str,
) -> Result<(UserId, OpenInvitation), StoreError> {
    let mut tx = pool.begin().await?;
    let invitation = claim(&mut tx, token, email).await?;
    let user = UserId::new();
    sqlx::query(
        "INSERT INTO users (id, tenant_id, email, password_hash, role) \
         VALUES ($1, $2, $3, $4, 'member')",
    )
    .bind(user)
    .bind(invitation.tenant_id)
    .bind(email.trim())
    .bind(password_hash)
    .execute(&mut *tx)
    .await?;
    join(&mut tx, &invitation, user).await?;
    tx.commit().await?;
    Ok((user, invitation))
}
