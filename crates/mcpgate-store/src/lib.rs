//! mcpgate's storage: the Postgres pool and migrations, the Redis connection, and
//! (in later modules) the tenant-scoped queries of the control plane.

mod error;
mod postgres;
mod redis_conn;

pub use error::StoreError;
pub use postgres::{
    connect_postgres, ensure_database, migrate, ping_postgres, PgPool, PostgresSettings,
};
pub use redis_conn::{connect_redis, Redis};
