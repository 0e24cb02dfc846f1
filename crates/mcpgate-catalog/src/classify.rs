//! The classifier's entry point.

use mcpgate_policy::Classification;

use crate::category;
use crate::confidence;
use crate::evidence::Assessment;
use crate::exposure;
use crate::fingerprint::{fingerprint, Fingerprint};
use crate::model::{Blend, Model};
use crate::risk;
use crate::signals::Signals;
use crate::tool::ToolDefinition;

/// Classifies one tool: its category, its risk, the signals that decided them
/// and how sure that verdict is.
///
/// Deterministic: the same definition always gives the same assessment, with
/// the same evidence in the same order. The rules' verdict ([`classify_rules`]) is
/// combined with the shipped model's prediction by [`Blend::SHIPPED`].
pub fn classify(tool: &ToolDefinition) -> Assessment {
    Blend::SHIPPED.apply(classify_rules(tool), &Model::shipped().predict(tool))
}

/// The rules alone, before the model: what the evaluation compares the blend with.
pub fn classify_rules(tool: &ToolDefinition) -> Assessment {
    let signals = Signals::gather(tool);
    let (scored, mut evidence) = category::score(&signals);
    let (category, exposure) = exposure::refine(&signals, scored, &mut evidence);
    let risk = risk::derive(&signals, category, exposure, &mut evidence);
    let tally = category::tally(&signals);
    let confidence = confidence::judge(&signals, &tally, scored, category, &evidence);
    Assessment {
        name: tool.name().to_owned(),
        classification: Classification { category, risk },
        evidence,
        confidence,
    }
}

/// A tool with its assessment and fingerprint: one row of a classified catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifiedTool {
    /// The definition as the upstream listed it.
    pub tool: ToolDefinition,
    /// Its category, risk and evidence.
    pub assessment: Assessment,
    /// Its fingerprint at classification time.
    pub fingerprint: Fingerprint,
}

impl ClassifiedTool {
    /// Classifies and fingerprints a tool.
    pub fn new(tool: ToolDefinition) -> Self {
        ClassifiedTool {
            assessment: classify(&tool),
            fingerprint: fingerprint(&tool),
            tool,
        }
    }
}

/// Classifies and fingerprints every tool of a catalogue, in order.
pub fn classify_all(tools: impl IntoIterator<Item = ToolDefinition>) -> Vec<ClassifiedTool> {
    tools.into_iter().map(ClassifiedTool::new).collect()
}
