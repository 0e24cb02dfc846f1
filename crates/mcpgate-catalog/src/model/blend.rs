//! The one place the model may change a verdict of the rules, and how far.
//!
//! The rules decide; the model steps in only where they are unsure or where it sees more
//! danger than they do. Thresholds are probabilities of the model's own head, chosen by
//! leave-one-server-out cross-validation on the development set (`docs/classification.md`,
//! round 8); `f64::INFINITY` turns a step off.

use mcpgate_policy::{Category, Risk};

use super::Prediction;
use crate::evidence::{Assessment, Effect, Evidence, EvidenceKind};

/// How the model's prediction is combined with the rules' verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blend {
    /// The model's category replaces the rules' default category (no verb, phrase,
    /// argument or hint recognised) from this probability.
    pub category_at: f64,
    /// The model's likeliest risk above the rules' replaces it when the probability of a
    /// higher risk reaches this.
    pub raise_at: f64,
    /// The model's likeliest risk below a low-confidence risk of the rules replaces it when
    /// the probability of a lower risk reaches this.
    pub lower_at: f64,
    /// A verdict whose category or risk the model gives less than this probability gets a
    /// point of doubt.
    pub doubt_below: f64,
    /// Where the rules' risk is their category's starting point (no rule refined it), the
    /// model's likeliest risk replaces it from this probability when it is one step away
    /// (round 13).
    pub base_risk_at: f64,
}

impl Blend {
    /// The rules alone: the model changes nothing and adds no doubt.
    pub const RULES_ONLY: Blend = Blend {
        category_at: f64::INFINITY,
        raise_at: f64::INFINITY,
        lower_at: f64::INFINITY,
        doubt_below: 0.0,
        base_risk_at: f64::INFINITY,
    };

    /// The combination `classify` uses: the model doubts, and moves a risk no rule refined
    /// one step to its own likeliest from p 0.6 (round 13). On the former held-out sets 4 to
    /// 11 with the rules as first measured (2,385 tools) that step takes risk from 76.6% to
    /// 77.4%, two steps off from 77 to 75, high called low stays 21, and 327 wrong risks go
    /// unmarked instead of 331 (338 with the rules alone); leave one server out it changes
    /// nothing of the four figures
    /// (88.8%, 14, 6). At p 0.5, or moving two steps, it called more high tools low on one
    /// view or the other and broke pinned rule cases (`docs/classification.md`, rounds 8
    /// and 13).
    pub const SHIPPED: Blend = Blend {
        category_at: f64::INFINITY,
        raise_at: f64::INFINITY,
        lower_at: f64::INFINITY,
        doubt_below: 0.05,
        base_risk_at: 0.6,
    };

    /// The rules' assessment with the model's prediction combined in. Each change carries
    /// evidence of kind `model` naming the probability and the features behind it.
    pub fn apply(&self, mut rules: Assessment, prediction: &Prediction) -> Assessment {
        let unsure = rules.confidence.needs_review();
        let features = prediction.top_features.join(", ");
        let category = rules.classification.category;
        let p = prediction.category_probability(prediction.category);
        let defaulted = rules
            .evidence
            .iter()
            .any(|e| e.kind == EvidenceKind::Default && e.effect == Effect::Category(category));
        if defaulted && prediction.category != category && p >= self.category_at {
            rules.classification.category = prediction.category;
            rules.evidence.push(category_evidence(
                prediction.category,
                p,
                &features,
                category,
            ));
        }
        let risk = rules.classification.risk;
        let (p_above, above) = prediction.above(risk);
        let (p_below, below) = prediction.below(risk);
        let from_base = crate::evidence::risk_from_base(&rules.evidence);
        let p_likeliest = prediction.risk_probability(prediction.risk);
        // One step only: the model's reading of words no rule took moves the starting point
        // to a neighbour, never across the scale (two steps moved more tools two steps off
        // and called more high tools low on the fresh view).
        let one_step = prediction.risk.index().abs_diff(risk.index()) == 1;
        let moved = if from_base && one_step && p_likeliest >= self.base_risk_at {
            Some((prediction.risk, p_likeliest))
        } else if p_above >= self.raise_at {
            Some((above, p_above))
        } else if unsure && p_below >= self.lower_at {
            Some((below, p_below))
        } else {
            None
        };
        if let Some((to, p)) = moved {
            rules.classification.risk = to;
            rules.evidence.push(risk_evidence(to, p, &features, risk));
        }
        let final_risk = rules.classification.risk;
        let final_category = rules.classification.category;
        let doubted = prediction.risk_probability(final_risk) < self.doubt_below
            || prediction.category_probability(final_category) < self.doubt_below;
        if doubted {
            rules.confidence.doubt(
                1,
                format!(
                    "the model reads {}/{} ({features})",
                    prediction.category, prediction.risk
                ),
            );
        }
        rules
    }
}

fn category_evidence(category: Category, p: f64, features: &str, was: Category) -> Evidence {
    Evidence::category(
        EvidenceKind::Model,
        features,
        category,
        format!("model: {category} at p {p:.2} where the rules were unsure of {was} ({features})"),
    )
}

fn risk_evidence(risk: Risk, p: f64, features: &str, was: Risk) -> Evidence {
    Evidence::risk(
        EvidenceKind::Model,
        features,
        risk,
        format!("model: risk {risk} at p {p:.2} over the rules' {was} ({features})"),
    )
}
