//! The mcpgate data plane: relays MCP between agents and upstream servers and
//! enforces the tenant's policy on every call. See the crate's README.

mod approval;
mod audit;
mod auth;
mod bridge;
mod cache;
mod drift;
mod enforce;
mod error;
mod limiter;
mod loop_guard;
mod mcp;
mod metrics;
mod origin;
mod protected_resource;
mod refusal;
mod relay;
mod serving;
mod session;
mod settings;
mod slots;
mod startup;
mod state;
mod stream;
mod target;
mod tasks;
mod token_cache;
mod trace;
mod upstream_oauth;

pub use refusal::{
    APPROVAL_DENIED, APPROVAL_EXPIRED, AUDIT_UNAVAILABLE, DENIED_PREFIX, LIMITER_UNAVAILABLE,
    POLICY_DENIED, RATE_LIMITED, REFUSAL_META_KEY, UPSTREAM_UNAVAILABLE,
};
pub use settings::ProxySettings;
pub use startup::{Application, BuildError, ProxyDeps};
