//! What the classifier concluded and why.

use mcpgate_policy::{Category, Classification, Risk};
use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;

/// The classification of one tool, with the signals that decided it.
///
/// Serialises as `{"name", "category", "risk", "evidence": [...], "confidence": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The tool's name.
    pub name: String,
    /// Category and risk, in the policy engine's vocabulary.
    #[serde(flatten)]
    pub classification: Classification,
    /// The deciding signals: first those that chose the category, strongest
    /// first, then each step of the risk derivation, in order.
    pub evidence: Vec<Evidence>,
    /// How sure the verdict is, read from the same signals.
    pub confidence: Confidence,
}

/// One signal that contributed to an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where the signal was found.
    pub kind: EvidenceKind,
    /// The word, phrase, argument or hint that matched, e.g. `"delete"`.
    pub matched: String,
    /// What it decided.
    pub effect: Effect,
    /// A short human-readable explanation, e.g. ``"name verb `delete`"``.
    pub message: String,
}

/// Where a signal was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A verb among the tokens of the tool's name (`k8s_delete_ns` → `delete`).
    NameVerb,
    /// A telling noun in the tool's name (`get_secret` → `secret`).
    NameNoun,
    /// The leading verb of the description (`"List all pods"` → `list`).
    DescriptionVerb,
    /// A phrase anywhere in the description (`"and all resources"`).
    DescriptionPhrase,
    /// An argument name in the input schema (`command`, `image`, `url`).
    Argument,
    /// An MCP annotation (`readOnlyHint`, `destructiveHint`, ...).
    Annotation,
    /// A combination of signals that a rule interprets together.
    Rule,
    /// Nothing recognised: the conservative default applied.
    Default,
    /// A person corrected the classifier (the tenant's override).
    Override,
    /// The small model shipped beside the rules changed the verdict (`model.rs`): the
    /// matched text lists the features that most favoured it, the message its probability.
    Model,
}

/// What a signal decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// It pointed to this category.
    Category(Category),
    /// It set the risk to this level.
    Risk(Risk),
}

/// Whether the risk was left where the category starts: the last risk evidence is the
/// default step, no rule refined it. Confidence doubts such a risk and the blend may move it.
pub fn risk_from_base(evidence: &[Evidence]) -> bool {
    evidence
        .iter()
        .rev()
        .find(|e| matches!(e.effect, Effect::Risk(_)))
        .is_some_and(|e| e.kind == EvidenceKind::Default)
}

impl Assessment {
    /// The assessment with a person's correction in place of the classifier's
    /// verdict: the classification is theirs and the evidence their reason, so a
    /// policy built from it explains itself. The confidence stays the classifier's.
    pub fn overridden(mut self, classification: Classification, by: &str, reason: &str) -> Self {
        let message = format!("set by {by}: {reason}");
        self.classification = classification;
        self.evidence = vec![
            Evidence::category(
                EvidenceKind::Override,
                by,
                classification.category,
                message.clone(),
            ),
            Evidence::risk(EvidenceKind::Override, by, classification.risk, message),
        ];
        self
    }
}

impl Evidence {
    /// Evidence that points to a category.
    pub(crate) fn category(
        kind: EvidenceKind,
        matched: impl Into<String>,
        category: Category,
        message: impl Into<String>,
    ) -> Self {
        Evidence {
            kind,
            matched: matched.into(),
            effect: Effect::Category(category),
            message: message.into(),
        }
    }

    /// Evidence that sets the risk level.
    pub(crate) fn risk(
        kind: EvidenceKind,
        matched: impl Into<String>,
        risk: Risk,
        message: impl Into<String>,
    ) -> Self {
        Evidence {
            kind,
            matched: matched.into(),
            effect: Effect::Risk(risk),
            message: message.into(),
        }
    }
}
