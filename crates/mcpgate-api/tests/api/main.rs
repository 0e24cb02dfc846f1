//! The control plane's REST API against a real Postgres, Redis and MCP upstream.

mod helpers;

mod access_matrix;
mod accounts;
mod admin_trail;
mod audit_and_approvals;
mod audit_export;
mod audit_partitions;
mod catalog_resync;
mod classification;
mod grants;
mod isolation;
mod loops;
mod password_hashing;
mod policies;
mod servers;
