//! The proxy end to end: real Postgres and Redis, a real MCP upstream (mcpgate-demo).

mod approvals;
mod audit;
mod auth;
mod batches;
mod body;
mod enforce;
mod failures;
mod front;
mod hardening;
mod helpers;
mod hostile;
mod legacy;
mod limits;
mod loops;
mod modern;
mod relay;
mod replicas;
mod serving;
mod telemetry;
mod topologies;
