//! The MCP tool catalogue: classify tools by risk, fingerprint their definitions
//! and recommend a starting policy. Pure: no I/O.
//!
//! See `docs/classification.md` for the signals, the rules and how well they
//! agree with hand labels.

#![warn(missing_docs)]

mod agreement;
mod catalogue;
mod category;
mod classify;
mod confidence;
mod consequence;
mod error;
mod evidence;
mod exposure;
mod fingerprint;
mod lexicon;
pub mod model;
mod recommend;
pub mod report;
mod risk;
mod router;
mod schema;
mod session;
mod signals;
mod structure;
mod text;
mod tool;

pub use agreement::{Agreement, Disagreement};
pub use catalogue::{Catalogue, CatalogueEntry, Label};
pub use classify::{classify, classify_all, classify_rules, ClassifiedTool};
pub use confidence::{Confidence, ConfidenceLevel};
pub use error::CatalogError;
pub use evidence::{risk_from_base, Assessment, Effect, Evidence, EvidenceKind};
pub use fingerprint::{canonical_json, fingerprint, Fingerprint};
pub use recommend::recommended_policy;
pub use tool::{ToolAnnotations, ToolDefinition};
