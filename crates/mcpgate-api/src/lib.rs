//! The mcpgate control plane: the REST API and the dashboard, over Postgres.

mod startup;

pub use startup::{ApiDeps, ApiSettings, Application};
