//! How far a verdict can be trusted without a person looking at it.
//!
//! The confidence is read from the same signals the verdict came from; it never
//! changes the verdict. Each doubt below adds points; 0 points is `high`, 1 is
//! `medium`, 2 or more is `low` (review this). So one weak doubt alone, such as a
//! risk no rule refined, leaves a verdict at `medium`; a second one, or any
//! strong one, asks a person to look.
//!
//! | doubt                                                                     | points |
//! |---------------------------------------------------------------------------|--------|
//! | no signal recognised: the category is the default                         | 2      |
//! | an annotation contradicts the category (`readOnlyHint=true` on a write or destructive tool, `destructiveHint=true` on a read, `destructiveHint=false` on a destructive tool) | 2 |
//! | the winning category leads the runner-up by 0 or 1 points (a tie is broken by caution) | 2 |
//! | it leads by 2 or 3 points                                                 | 1      |
//! | the name's first verb and the description's leading verb point to different categories | 1 |
//! | `readOnlyHint=false` on a read tool                                       | 1      |
//! | one source only (the name, the description, the arguments, the annotations or a rule) chose the category | 1 |
//! | the risk is where the category starts: no rule refined it                 | 1      |
//! | ... on a write or destructive tool that says more than the rules read (a structured payload argument, or a description over 150 characters) | 2 instead |
//! | the shipped model gives the verdict's category or risk under 5% (added by `model/blend.rs`) | 1 |
//!
//! `high` therefore means at least two independent sources agree on the
//! category, nothing contradicts them, the category won clearly and a rule set
//! the risk.
//!
//! The category's lead is counted in the weights of `category.rs`; when a
//! credential rule re-reads a read tool, the lead is not used (the rule, not the
//! vote, decided).

use std::fmt;
use std::str::FromStr;

use mcpgate_policy::Category;
use serde::{Deserialize, Serialize};

use crate::category::Tally;
use crate::evidence::{Effect, Evidence, EvidenceKind};
use crate::signals::Signals;

/// How sure the classifier is, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceLevel {
    /// A person should review the verdict.
    Low,
    /// Probably right; one signal or a narrow margin.
    Medium,
    /// Several kinds of signal agree and nothing contradicts them.
    High,
}

impl ConfidenceLevel {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfidenceLevel::Low => "low",
            ConfidenceLevel::Medium => "medium",
            ConfidenceLevel::High => "high",
        }
    }
}

impl fmt::Display for ConfidenceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConfidenceLevel {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "low" => Ok(ConfidenceLevel::Low),
            "medium" => Ok(ConfidenceLevel::Medium),
            "high" => Ok(ConfidenceLevel::High),
            other => Err(format!(
                "unknown confidence `{other}`: expected low, medium or high"
            )),
        }
    }
}

/// The confidence of one assessment, with the doubts that lowered it.
///
/// Serialises as `{"level": "medium", "doubts": 1, "reasons": ["..."]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confidence {
    /// The level: `high` at 0 points of doubt, `medium` at 1, `low` from 2.
    pub level: ConfidenceLevel,
    /// The points of doubt, summed over the reasons.
    pub doubts: u32,
    /// Each doubt, in the order of the module's table; empty when high.
    pub reasons: Vec<String>,
}

impl Confidence {
    /// Whether a person should look at the verdict before relying on it.
    pub fn needs_review(&self) -> bool {
        self.level == ConfidenceLevel::Low
    }

    /// Points of doubt from which a verdict is `low`.
    pub const LOW_FROM: u32 = 2;

    pub(crate) fn doubt(&mut self, points: u32, reason: String) {
        self.doubts += points;
        self.reasons.push(reason);
        self.level = match self.doubts {
            0 => ConfidenceLevel::High,
            points if points < Self::LOW_FROM => ConfidenceLevel::Medium,
            _ => ConfidenceLevel::Low,
        };
    }
}

/// A doubt that asks for review by itself.
const STRONG: u32 = 2;
/// A doubt that asks for review only with another.
const WEAK: u32 = 1;

/// Judges a verdict: `scored` is the category the votes chose, `category` the
/// final one (a credential rule may have changed it), `evidence` all of it.
pub(crate) fn judge(
    signals: &Signals,
    tally: &Tally,
    scored: Category,
    category: Category,
    evidence: &[Evidence],
) -> Confidence {
    let mut confidence = Confidence {
        level: ConfidenceLevel::High,
        doubts: 0,
        reasons: Vec::new(),
    };
    let for_category: Vec<&Evidence> = evidence
        .iter()
        .filter(|e| e.effect == Effect::Category(category))
        .collect();
    if for_category.iter().any(|e| e.kind == EvidenceKind::Default) {
        confidence.doubt(
            STRONG,
            format!("no verb, phrase, argument or hint recognised: {category} is the default"),
        );
    }
    annotations(signals, category, &mut confidence);
    if scored == category {
        margin(tally, category, &mut confidence);
    }
    if let (Some(name), Some(description)) = (tally.name_verb, tally.description_verb) {
        if name != description {
            confidence.doubt(
                WEAK,
                format!("the name's verb says {name}, the description's says {description}"),
            );
        }
    }
    let mut sources: Vec<&'static str> = Vec::new();
    for source in for_category.iter().filter_map(|e| source(e.kind)) {
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
    if let [only] = sources.as_slice() {
        confidence.doubt(WEAK, format!("only {only} chose {category}"));
    }
    if category == Category::Read {
        if let Some(hint) = sensitive_read_hint(signals) {
            confidence.doubt(
                WEAK,
                format!("a read that carries {hint}, which no credential rule took"),
            );
        }
    }
    let risk_from_base = crate::evidence::risk_from_base(evidence);
    if risk_from_base {
        let unread = matches!(category, Category::Write | Category::Destructive)
            .then(|| says_more_than_read(signals))
            .flatten();
        match unread {
            Some(what) => confidence.doubt(
                STRONG,
                format!(
                    "the risk is where {category} tools start though the tool carries {what} no rule read"
                ),
            ),
            None => confidence.doubt(
                WEAK,
                format!("the risk is where {category} tools start: no rule refined it"),
            ),
        }
    }
    confidence
}

/// What hints that a read may return secrets though the credential rules did not take it
/// (round 10): an argument that reveals values but is no boolean switch, or a field written
/// in the description whose name ends in a secret, password or token.
fn sensitive_read_hint(signals: &Signals) -> Option<String> {
    if let Some(argument) = signals.argument(crate::signals::Role::Reveal) {
        return Some(format!("the argument `{}`", argument.name));
    }
    signals
        .raw_description
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .find(|word| {
            let tokens = crate::text::identifier_tokens(word);
            tokens.len() >= 2
                && tokens
                    .last()
                    .is_some_and(|last| ["secret", "password", "token"].contains(&last.as_str()))
                && !["page", "next", "cursor", "continuation"]
                    .contains(&tokens[tokens.len() - 2].as_str())
        })
        .map(|word| format!("the field `{word}`"))
}

/// Description length (characters) from which a write's prose says more than its verb.
const LONG_DESCRIPTION: usize = 150;

/// What a tool carries beyond a verb and an identifier that the risk rules did not read:
/// a structured payload (an object or array argument) or a long description. A risk left
/// at the category's start on such a tool is a guess: on round 6's development side, of the
/// writes and deletions left there at medium confidence, 26% of these were wrong against 17%
/// of the rest.
fn says_more_than_read(signals: &Signals) -> Option<&'static str> {
    let structured = |schema: &serde_json::Value| {
        matches!(
            schema.get("type").and_then(serde_json::Value::as_str),
            Some("object" | "array")
        )
    };
    let payload = signals.arguments.iter().any(|a| {
        let schema = a.schema();
        structured(schema)
            || schema
                .get("anyOf")
                .and_then(serde_json::Value::as_array)
                .is_some_and(|options| options.iter().any(structured))
    });
    if payload {
        return Some("a structured payload");
    }
    (signals.raw_description.chars().count() > LONG_DESCRIPTION).then_some("a long description")
}

fn annotations(signals: &Signals, category: Category, confidence: &mut Confidence) {
    let hints = signals.annotations;
    let contradiction = match category {
        Category::Write | Category::Destructive if hints.read_only == Some(true) => {
            Some("readOnlyHint=true")
        }
        Category::Read if hints.destructive == Some(true) => Some("destructiveHint=true"),
        Category::Destructive if hints.destructive == Some(false) => Some("destructiveHint=false"),
        _ => None,
    };
    if let Some(hint) = contradiction {
        confidence.doubt(
            STRONG,
            format!("annotation {hint} contradicts the category {category}"),
        );
    }
    if category == Category::Read && hints.read_only == Some(false) {
        confidence.doubt(
            WEAK,
            "annotation readOnlyHint=false on a tool that reads as read".to_owned(),
        );
    }
}

fn margin(tally: &Tally, winner: Category, confidence: &mut Confidence) {
    let won = tally
        .totals
        .iter()
        .find(|(category, _)| *category == winner)
        .map_or(0, |(_, total)| *total);
    let runner_up = tally
        .totals
        .iter()
        .filter(|(category, total)| *category != winner && *total > 0)
        .max_by_key(|(_, total)| *total);
    let Some((second, points)) = runner_up else {
        return;
    };
    let lead = won.saturating_sub(*points);
    let reason = format!("{winner} leads {second} by {lead} point(s), {won} to {points}");
    match lead {
        0 | 1 => confidence.doubt(STRONG, reason),
        2 | 3 => confidence.doubt(WEAK, reason),
        _ => {}
    }
}

/// The independent place a signal comes from: the name's verb and noun are one
/// source, the description's verb and phrases another.
fn source(kind: EvidenceKind) -> Option<&'static str> {
    match kind {
        EvidenceKind::NameVerb | EvidenceKind::NameNoun => Some("the name"),
        EvidenceKind::DescriptionVerb | EvidenceKind::DescriptionPhrase => Some("the description"),
        EvidenceKind::Argument => Some("the arguments"),
        EvidenceKind::Annotation => Some("the annotations"),
        EvidenceKind::Rule => Some("a rule"),
        EvidenceKind::Override => Some("a person"),
        EvidenceKind::Model => Some("the model"),
        EvidenceKind::Default => None,
    }
}
