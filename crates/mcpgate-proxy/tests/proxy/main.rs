//! The proxy end to end: real Postgres and Redis, a real MCP upstream (mcpgate-demo).

mod auth;
mod body;
mod enforce;
mod helpers;
mod limits;
mod relay;
