//! The mcpgate control plane: the REST API (and, later, the dashboard) over
//! Postgres. Handlers are thin: extract, call a domain function or the store,
//! answer; every query is scoped to the caller's tenant.

pub mod access;
mod client_address;
mod dashboard;
mod domain;
mod error;
pub mod export;
mod extract;
mod mail;
mod maintenance;
mod oauth_refresh;
mod oauth_server;
pub mod openapi;
mod passwords;
mod resync;
mod routes;
mod sso;
mod startup;
mod state;

pub use client_address::{Cidr, InvalidCidr, TrustedProxies};
pub use error::ApiError;
pub use export::ExportSettings;
pub use mail::{SmtpSettings, SmtpSettingsError};
pub use mcpgate_store::audit::AuditRetention;
pub use oauth_refresh::DEFAULT_UPSTREAM_OAUTH_REFRESH_MARGIN;
pub use oauth_server::{oauth_issuer, DEFAULT_OAUTH_ACCESS_TOKEN_LIFETIME};
pub use passwords::DEFAULT_PASSWORD_HASH_WAIT;
pub use startup::{
    ApiDeps, ApiSettings, Application, DEFAULT_CATALOG_RESYNC_COOLDOWN,
    DEFAULT_CATALOG_RESYNC_INTERVAL, MAX_BODY_BYTES,
};
