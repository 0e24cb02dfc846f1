//! mcpgate's storage: the Postgres pool and migrations, the Redis connection,
//! the change channel, and the tenant-scoped queries of the control plane.
//!
//! Every function that reads or writes a tenant's rows takes the `TenantId`
//! first and filters by it, so a caller holding another tenant's id finds
//! nothing (`StoreError::NotFound`), never someone else's row.

pub mod accounts;
pub mod admin_audit;
pub mod approvals;
pub mod audit;
pub mod changes;
pub mod classifications;
mod error;
pub mod grants;
mod ids;
pub mod members;
pub mod oauth_server;
pub mod password_resets;
pub mod policies;
mod postgres;
mod redis_conn;
mod roles;
pub mod servers;
pub mod sessions;
pub mod sso;
pub mod sync_claims;
pub mod upstream_oauth;

pub use error::StoreError;
pub use ids::{
    AdminAuditId, ApiKeyId, ApprovalId, AuditEventId, GrantId, InvitationId, ServerId, TenantId,
    UserId, SPELLED_ID_LENGTH,
};
pub use postgres::{
    connect_postgres, drop_database, ensure_database, migrate, ping_postgres, PgPool,
    PostgresSettings,
};
pub use redis_conn::{
    connect_redis, connect_redis_trusting, AtomicScript, Redis, RedisConnection, RedisTopology,
    RedisTrust, ScriptCall,
};
pub use roles::{Role, UnknownRole};
