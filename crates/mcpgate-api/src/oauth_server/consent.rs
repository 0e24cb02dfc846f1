//! The consent page: who asks (the client), for what (the server), and what the agent
//! will be allowed (a policy and an expiry), answered by a signed-in member.

use askama::Template;
use chrono::{DateTime, TimeDelta, Utc};
use mcpgate_store::grants::{self, Grant};
use mcpgate_store::{GrantId, PgPool, TenantId};

use super::authorize::AuthorizationRequest;

/// The choices of expiry, in days; `never` is the other.
pub(super) const EXPIRY_DAYS: [i64; 4] = [1, 7, 30, 90];

#[derive(Template)]
#[template(path = "oauth_consent.html")]
pub(super) struct ConsentPage {
    pub(super) csrf: String,
    pub(super) email: String,
    pub(super) tenant_name: String,
    pub(super) client_name: String,
    pub(super) client_id: String,
    /// Where the browser goes back to: shown so a person can spot a look-alike.
    pub(super) redirect_uri: String,
    pub(super) registered: bool,
    pub(super) server_name: String,
    pub(super) proxy_url: String,
    pub(super) policies: Vec<PolicyChoice>,
    pub(super) expiry_days: [i64; 4],
    pub(super) request: AuthorizationRequest,
}

#[derive(Template)]
#[template(path = "oauth_refused.html")]
pub(super) struct RefusedPage {
    pub(super) message: String,
}

/// An existing grant whose policy the new grant may take.
#[derive(Debug, Clone)]
pub(super) struct PolicyChoice {
    pub(super) grant_id: GrantId,
    pub(super) grant_name: String,
}

/// The tenant's live grants that carry a policy of their own.
pub(super) async fn policy_choices(
    db: &PgPool,
    tenant: TenantId,
) -> Result<Vec<PolicyChoice>, mcpgate_store::StoreError> {
    let now = Utc::now();
    Ok(grants::list_grants(db, tenant)
        .await?
        .into_iter()
        .filter(|grant| usable_policy(grant, now).is_some())
        .map(|grant| PolicyChoice {
            grant_id: grant.id,
            grant_name: grant.name,
        })
        .collect())
}

fn usable_policy(grant: &Grant, now: DateTime<Utc>) -> Option<&str> {
    let live = grant.revoked_at.is_none() && grant.expires_at.is_none_or(|at| at > now);
    grant.policy.as_deref().filter(|_| live)
}

/// What the member chose, as the form sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Choice {
    /// The grant's own policy (a copy of another grant's); `None`: the server's only.
    pub(super) policy: Option<String>,
    pub(super) expires_at: Option<DateTime<Utc>>,
}

/// Reads `policy` (`server` or `grant:<id>`) and `expires` (`never` or days) of the form.
pub(super) async fn read_choice(
    db: &PgPool,
    tenant: TenantId,
    policy: &str,
    expires: &str,
    now: DateTime<Utc>,
) -> Result<Choice, String> {
    let policy = match policy {
        "server" | "" => None,
        other => {
            let id: GrantId = other
                .strip_prefix("grant:")
                .and_then(|id| id.parse().ok())
                .ok_or("choose the server's policy or one of the grants listed")?;
            let grant = grants::grant(db, tenant, id)
                .await
                .map_err(|_| "that grant is not in this account".to_owned())?;
            Some(
                usable_policy(&grant, now)
                    .ok_or("that grant has no policy of its own, or is no longer live")?
                    .to_owned(),
            )
        }
    };
    let expires_at = match expires {
        "never" => None,
        days => {
            let days: i64 = days
                .parse()
                .ok()
                .filter(|days| EXPIRY_DAYS.contains(days))
                .ok_or("choose one of the expiries listed")?;
            Some(now + TimeDelta::days(days))
        }
    };
    Ok(Choice { policy, expires_at })
}
