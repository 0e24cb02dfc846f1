//! The deployment artefacts checked without a cluster or docker: the Helm chart
//! (deploy/helm/mcpgate) rendered by the real helm for each documented values file,
//! and the compose file (deploy/compose.yaml) at the YAML level. Every rendered
//! environment is loaded by this binary's own configuration (`config.rs`) and its
//! Redis URL read by the store's parser, so a chart that renders but would not start
//! fails here. docs/deployment.md says what this proves and what it does not.

mod chart;
mod compose;
mod helm;
mod manifests;
mod release;
mod settings;
mod values_paths;
