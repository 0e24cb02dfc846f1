//! The mcpgate data plane: relays MCP between agents and upstream servers and
//! enforces the tenant's policy on every call.

mod startup;

pub use startup::{Application, ProxyDeps, ProxySettings};
