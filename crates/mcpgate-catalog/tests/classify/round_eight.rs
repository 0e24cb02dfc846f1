//! Round 8 (issue 14): the small model beside the rules (`src/model.rs`). A blend may let the
//! model take the category where the rules fell to their default, raise a risk it is sure
//! of, or doubt a verdict it finds unlikely; every verdict it changed says so in evidence of
//! kind `model`, every doubt names it. The shipped blend doubts, and since round 13 moves a risk
//! no rule refined one step to the model's likeliest when that is at p 0.6 or more. Pinned on made-up tools
//! outside the evaluation set, with predictions written out so each case is exact.

use mcpgate_catalog::model::{Blend, Prediction};
use mcpgate_catalog::{classify_rules, Assessment, ConfidenceLevel, EvidenceKind, ToolDefinition};
use mcpgate_policy::{Category, Risk};
use serde_json::json;

fn rules_of(value: serde_json::Value) -> Assessment {
    classify_rules(&ToolDefinition::from_value(&value).expect("valid tool"))
}

/// A model verdict of `category` and `risk` at probability `p` each, the rest spread evenly
/// (so the probability of a risk above low is `p` plus two thirds of the rest).
fn sure_of(category: Category, risk: Risk, p: f64) -> Prediction {
    let categories = Category::ALL.map(|c| if c == category { p } else { (1.0 - p) / 5.0 });
    Prediction {
        category,
        category_probabilities: categories,
        risk,
        risk_probabilities: Risk::ALL.map(|r| if r == risk { p } else { (1.0 - p) / 3.0 }),
        top_features: vec!["desc:wire".to_owned(), "arg:iban".to_owned()],
    }
}

const RAISING: Blend = Blend {
    category_at: f64::INFINITY,
    raise_at: 0.8,
    lower_at: 0.9,
    doubt_below: 0.0,
    base_risk_at: f64::INFINITY,
};

fn list_notes() -> Assessment {
    let rules = rules_of(json!({
        "name": "list_notes",
        "description": "List the notes of a notebook.",
        "inputSchema": {"type": "object", "properties": {"notebook_id": {"type": "string"}}}
    }));
    assert_eq!(
        (rules.classification.category, rules.classification.risk),
        (Category::Read, Risk::Low),
        "precondition: the rules read it"
    );
    rules
}

/// Destructive high at medium confidence: the rules are not unsure of it.
fn wipe_device() -> Assessment {
    let rules = rules_of(json!({
        "name": "wipe_device",
        "description": "Wipe a device remotely.",
        "inputSchema": {"type": "object", "properties": {"device_id": {"type": "string"}}}
    }));
    assert_eq!(
        (rules.classification.category, rules.classification.risk),
        (Category::Destructive, Risk::High),
        "precondition: the rules call it destructive high"
    );
    assert_eq!(
        rules.confidence.level,
        ConfidenceLevel::Medium,
        "precondition"
    );
    rules
}

#[test]
fn a_blend_raises_a_risk_the_model_is_sure_of_and_names_the_model() {
    let blended = RAISING.apply(list_notes(), &sure_of(Category::Read, Risk::High, 0.9));
    assert_eq!(blended.classification.risk, Risk::High);
    let model = blended
        .evidence
        .iter()
        .find(|e| e.kind == EvidenceKind::Model)
        .expect("evidence of kind model");
    assert!(
        model.message.contains("p 0.97")
            && model.message.contains("low")
            && model.matched == "desc:wire, arg:iban",
        "the probability, the rules' risk and the features are named: {model:?}"
    );
}

#[test]
fn a_blend_neither_raises_on_a_weak_prediction_nor_lowers_a_risk_the_rules_are_sure_of() {
    // High is the likeliest, but a higher risk than low only 0.7 likely: under 0.8.
    let mut leaning = sure_of(Category::Read, Risk::High, 0.5);
    leaning.risk_probabilities = [0.3, 0.1, 0.5, 0.1];
    let weak = RAISING.apply(list_notes(), &leaning);
    assert_eq!(weak.classification.risk, Risk::Low);
    assert!(weak.evidence.iter().all(|e| e.kind != EvidenceKind::Model));
    let sure_low = RAISING.apply(
        wipe_device(),
        &sure_of(Category::Destructive, Risk::Low, 0.99),
    );
    assert_eq!(
        sure_low.classification.risk,
        Risk::High,
        "lowering waits for the rules to be unsure"
    );
}

#[test]
fn the_shipped_blend_keeps_the_verdict_and_asks_for_review_when_the_model_finds_it_unlikely() {
    let rules = wipe_device();
    let blended = Blend::SHIPPED.apply(rules.clone(), &sure_of(Category::Read, Risk::Low, 0.97));
    assert_eq!(blended.classification, rules.classification);
    assert_eq!(blended.evidence, rules.evidence);
    assert_eq!(blended.confidence.level, ConfidenceLevel::Low);
    let reason = blended.confidence.reasons.last().expect("a reason");
    assert!(
        reason.starts_with("the model reads read/low") && reason.contains("desc:wire"),
        "{reason}"
    );
}

#[test]
fn the_shipped_blend_adds_no_doubt_where_the_model_agrees() {
    let rules = wipe_device();
    let agreeing = sure_of(Category::Destructive, Risk::High, 0.6);
    let blended = Blend::SHIPPED.apply(rules.clone(), &agreeing);
    assert_eq!(blended, rules);
}

/// Round 13: the shipped blend moves a risk the rules left at their category's starting point
/// one step, to the model's likeliest, from p 0.6; never two steps, never a rule's risk.
#[test]
fn the_shipped_blend_moves_an_unrefined_starting_risk_one_step_when_the_model_is_sure() {
    let moved = Blend::SHIPPED.apply(list_notes(), &sure_of(Category::Read, Risk::Medium, 0.7));
    assert_eq!(moved.classification.risk, Risk::Medium);
    assert!(moved.evidence.iter().any(|e| e.kind == EvidenceKind::Model));
    let unsure = Blend::SHIPPED.apply(list_notes(), &sure_of(Category::Read, Risk::Medium, 0.55));
    assert_eq!(unsure.classification.risk, Risk::Low);
    let two_steps = Blend::SHIPPED.apply(list_notes(), &sure_of(Category::Read, Risk::High, 0.95));
    assert_eq!(two_steps.classification.risk, Risk::Low);
    let refined = rules_of(json!({
        "name": "catalog_refresh",
        "description": "Refresh metadata for one or all catalogs.",
        "inputSchema": {"type": "object", "properties": {"catalog": {"type": "string"}}}
    }));
    assert_eq!(
        refined.classification.risk,
        Risk::Low,
        "precondition: a rule set the risk"
    );
    let kept = Blend::SHIPPED.apply(refined, &sure_of(Category::Write, Risk::Medium, 0.95));
    assert_eq!(kept.classification.risk, Risk::Low);
}
