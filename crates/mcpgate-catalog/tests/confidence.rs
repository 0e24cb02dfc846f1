//! The confidence of a verdict: high when independent signals agree and a rule
//! set the risk, low (review this) when the classifier guessed or its signals
//! disagree. The verdict itself is checked first, so each test reads the
//! confidence of the verdict it means to.

use mcpgate_catalog::{classify, Assessment, ConfidenceLevel, ToolDefinition};
use mcpgate_policy::{Category, Risk};
use serde_json::{json, Value};

fn assess(value: Value) -> Assessment {
    classify(&ToolDefinition::from_value(&value).expect("valid tool"))
}

fn verdict(assessment: &Assessment) -> (Category, Risk) {
    (
        assessment.classification.category,
        assessment.classification.risk,
    )
}

fn mentions(assessment: &Assessment, words: &str) -> bool {
    assessment
        .confidence
        .reasons
        .iter()
        .any(|reason| reason.contains(words))
}

#[test]
fn name_description_and_annotation_agreeing_with_a_risk_rule_is_high_confidence() {
    let assessment = assess(json!({
        "name": "delete_namespace",
        "description": "Delete a namespace and all resources in it.",
        "inputSchema": {"type": "object", "properties": {"namespace": {"type": "string"}}},
        "annotations": {"destructiveHint": true}
    }));
    assert_eq!(
        verdict(&assessment),
        (Category::Destructive, Risk::Critical)
    );
    assert_eq!(
        assessment.confidence.level,
        ConfidenceLevel::High,
        "{:?}",
        assessment.confidence
    );
    assert_eq!(assessment.confidence.doubts, 0);
    assert!(assessment.confidence.reasons.is_empty());
    assert!(!assessment.confidence.needs_review());
}

#[test]
fn a_tool_with_no_recognised_signal_falls_back_to_write_with_low_confidence() {
    let assessment = assess(json!({"name": "frobnicate"}));
    assert_eq!(verdict(&assessment).0, Category::Write);
    assert_eq!(assessment.confidence.level, ConfidenceLevel::Low);
    assert!(assessment.confidence.needs_review());
    assert!(
        mentions(&assessment, "is the default"),
        "{:?}",
        assessment.confidence
    );
}

#[test]
fn a_read_only_hint_on_a_delete_tool_is_a_contradiction_to_review() {
    let assessment = assess(json!({
        "name": "delete_file",
        "description": "Delete a file from the workspace.",
        "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}},
        "annotations": {"readOnlyHint": true}
    }));
    assert_eq!(verdict(&assessment).0, Category::Destructive);
    assert_eq!(assessment.confidence.level, ConfidenceLevel::Low);
    assert!(
        mentions(
            &assessment,
            "readOnlyHint=true contradicts the category destructive"
        ),
        "{:?}",
        assessment.confidence
    );
}

#[test]
fn a_name_that_reads_and_a_description_that_deletes_takes_the_safer_reading_and_asks_for_review() {
    let assessment = assess(json!({
        "name": "get_report",
        "description": "Deletes the report once it has been read.",
        "inputSchema": {"type": "object", "properties": {"report_id": {"type": "string"}}}
    }));
    assert_eq!(verdict(&assessment).0, Category::Destructive);
    assert_eq!(
        assessment.confidence.level,
        ConfidenceLevel::Low,
        "{:?}",
        assessment.confidence
    );
    assert!(
        mentions(
            &assessment,
            "the name's verb says read, the description's says destructive"
        ),
        "{:?}",
        assessment.confidence
    );
}

#[test]
fn one_weak_doubt_alone_leaves_a_verdict_at_medium() {
    let assessment = assess(json!({
        "name": "list_pods",
        "description": "List all pods in a namespace.",
        "inputSchema": {"type": "object", "properties": {"namespace": {"type": "string"}}},
        "annotations": {"readOnlyHint": true}
    }));
    assert_eq!(verdict(&assessment), (Category::Read, Risk::Low));
    assert_eq!(
        assessment.confidence.reasons,
        ["the risk is where read tools start: no rule refined it"]
    );
    assert_eq!(assessment.confidence.doubts, 1);
    assert_eq!(assessment.confidence.level, ConfidenceLevel::Medium);
    assert!(!assessment.confidence.needs_review());
}

#[test]
fn a_near_tie_between_two_categories_is_low_confidence() {
    // The name's verb (6) says write; the description's verb (3) and the URL
    // argument (3) say network: 6 to 6, broken towards network by caution.
    let assessment = assess(json!({
        "name": "update_hook",
        "description": "Fetch the page.",
        "inputSchema": {"type": "object", "properties": {"url": {"type": "string"}}}
    }));
    assert_eq!(verdict(&assessment).0, Category::Network);
    let reasons = &assessment.confidence.reasons;
    let lead = reasons
        .iter()
        .find(|reason| reason.contains(" leads "))
        .unwrap_or_else(|| panic!("a lead among {reasons:?}"));
    assert!(lead.contains("by 0 point(s)"), "{lead}");
    assert_eq!(assessment.confidence.level, ConfidenceLevel::Low);
}

#[test]
fn the_confidence_is_serialised_with_the_assessment() {
    let assessment = assess(json!({"name": "frobnicate"}));
    let value = serde_json::to_value(&assessment).expect("serialisable");
    assert_eq!(value["confidence"]["level"], "low");
    assert!(value["confidence"]["doubts"].as_u64().unwrap() >= 2);
    assert!(!value["confidence"]["reasons"]
        .as_array()
        .unwrap()
        .is_empty());
    let back: Assessment = serde_json::from_value(value).expect("round trip");
    assert_eq!(back, assessment);
}

#[test]
fn confidence_levels_parse_from_their_names_only() {
    for level in [
        ConfidenceLevel::Low,
        ConfidenceLevel::Medium,
        ConfidenceLevel::High,
    ] {
        assert_eq!(level.as_str().parse::<ConfidenceLevel>(), Ok(level));
    }
    assert!("certain".parse::<ConfidenceLevel>().is_err());
    assert!(ConfidenceLevel::Low < ConfidenceLevel::Medium);
    assert!(ConfidenceLevel::Medium < ConfidenceLevel::High);
}

#[test]
fn a_write_left_at_its_starting_risk_though_it_takes_a_structured_payload_asks_for_review() {
    let structured = assess(json!({
        "name": "update_routing",
        "description": "Update the routing of a queue.",
        "inputSchema": {"type": "object", "properties": {
            "queue_id": {"type": "string"},
            "routing": {"type": "object", "properties": {"weights": {"type": "array"}}}
        }},
        "annotations": {"readOnlyHint": false}
    }));
    assert_eq!(verdict(&structured), (Category::Write, Risk::Medium));
    assert!(
        mentions(&structured, "where write tools start"),
        "precondition: no rule refined the risk: {:?}",
        structured.confidence
    );
    assert_eq!(structured.confidence.level, ConfidenceLevel::Low);
    assert!(mentions(&structured, "a structured payload no rule read"));
    // The same write taking only names keeps the one weak doubt: medium.
    let flat = assess(json!({
        "name": "update_routing",
        "description": "Update the routing of a queue.",
        "inputSchema": {"type": "object", "properties": {
            "queue_id": {"type": "string"},
            "routing": {"type": "string"}
        }},
        "annotations": {"readOnlyHint": false}
    }));
    assert_eq!(verdict(&flat), (Category::Write, Risk::Medium));
    assert_eq!(flat.confidence.level, ConfidenceLevel::Medium);
}
