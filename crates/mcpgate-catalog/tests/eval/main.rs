//! The classifier on the evaluation set of issue 14 (`eval/`): tools of real MCP servers it
//! was not written against, labelled blind twice and adjudicated.
//!
//! `cargo test -p mcpgate-catalog --test eval -- --nocapture --test-threads 1` prints, for the
//! development side (every set whose misses have been read after its one measurement: the
//! first split's two halves and the second held-out set) and for the third held-out set,
//! category and risk accuracy, Cohen's κ, both confusion matrices, the per-server figures and
//! every miss. Development floors are the figures after tuning; the third held-out set's are
//! exactly what it scored on its one measurement.

mod score;
mod set;

use std::collections::BTreeMap;

use mcpgate_catalog::{classify, ConfidenceLevel};

use score::{Pair, Scorecard};
use set::{Half, Labels};

/// Development floors: the figures after tuning less a small margin, so a change that makes
/// the classifier worse on the development side fails here. With the second held-out set
/// folded in (958 tools): 94.1% category, 87.6% risk before round 3; 96.3% and 94.1% after.
const DEVELOPMENT_CATEGORY_FLOOR: f64 = 96.0;
const DEVELOPMENT_RISK_FLOOR: f64 = 93.8;
/// None since round 3: a file-path argument sent by an upload or a post is network high
/// (`firecrawl_parse`), and the second held-out set's seven have general causes fixed.
const DEVELOPMENT_OFF_BY_TWO: usize = 0;
const DEVELOPMENT_HIGH_CALLED_LOW: usize = 0;

/// The development side: 742 tools of the first split and 216 of the second held-out set.
const DEVELOPMENT_TOOLS: usize = 958;

/// The third held-out set: its size, and the figures measured on it once (2026-12-01, the
/// classifier of commit 645aa6f), kept exactly as a regression floor. They are below the
/// issue's targets; raising them needs a new held-out set, not tuning on this one.
const HELD_OUT_3_TOOLS: usize = 358;
/// 330 of 358 categories right (92.2%), written as `percent` computes it.
const HELD_OUT_3_CATEGORY_FLOOR: f64 = 330.0 * 100.0 / 358.0;
/// 280 of 358 risks right (78.2%).
const HELD_OUT_3_RISK_FLOOR: f64 = 280.0 * 100.0 / 358.0;
const HELD_OUT_3_OFF_BY_TWO: usize = 10;
/// `mute_host` (write high), `auth0_get_resource_server` (credential high) and
/// `auth0_get_quickstart_guide` (write high), each called low.
const HELD_OUT_3_HIGH_CALLED_LOW: usize = 3;

fn classifier_scorecard(half: Half) -> Scorecard {
    let pairs = set::half(half)
        .into_iter()
        .map(|labelled| Pair {
            actual: classify(&labelled.tool).classification,
            name: labelled.tool.name().to_owned(),
            server: labelled.server,
            expected: labelled.expected,
            why: labelled.why,
        })
        .collect();
    Scorecard { pairs }
}

fn labeller_scorecard(reference: &Labels, other: &Labels) -> Scorecard {
    let mut pairs = Vec::new();
    for (server, tools) in reference {
        for (name, expected) in tools {
            let actual = *other
                .get(server)
                .and_then(|tools| tools.get(name))
                .unwrap_or_else(|| panic!("no label for {server}/{name}"));
            pairs.push(Pair {
                server: server.clone(),
                name: name.clone(),
                expected: *expected,
                actual,
                why: String::new(),
            });
        }
    }
    Scorecard { pairs }
}

fn names(pairs: Vec<&Pair>) -> Vec<String> {
    pairs
        .iter()
        .map(|p| format!("{}/{}", p.server, p.name))
        .collect()
}

/// Both blind labellings and the adjudication cover exactly the half's tools, and the
/// labellers' agreement is printed.
fn assert_labelled_blind_twice(half: Half, tools: usize) {
    let a = set::labels(half, "labeller-a.json");
    let b = set::labels(half, "labeller-b.json");
    let adjudicated = set::labels(half, "adjudicated.json");
    let count = |labels: &Labels| labels.values().map(|tools| tools.len()).sum::<usize>();
    assert_eq!(
        (count(&a), count(&b), count(&adjudicated)),
        (tools, tools, tools)
    );
    assert_eq!(set::half(half).len(), tools, "every tool has its label");
    let between = labeller_scorecard(&a, &b);
    println!("labeller-a vs labeller-b: {}", between.headline());
    for (who, labels) in [("labeller-a", &a), ("labeller-b", &b)] {
        println!(
            "{who} vs adjudicated: {}",
            labeller_scorecard(&adjudicated, labels).headline()
        );
    }
}

fn assert_floors(
    card: &Scorecard,
    category_floor: f64,
    risk_floor: f64,
    off_by_two: usize,
    dangerous_low: usize,
) {
    assert!(
        card.category_percent() >= category_floor,
        "category {:.1}%",
        card.category_percent()
    );
    assert!(
        card.risk_percent() >= risk_floor,
        "risk {:.1}%",
        card.risk_percent()
    );
    let two_steps = names(card.off_by_two());
    assert!(
        two_steps.len() <= off_by_two,
        "tools two or more risk steps off: {two_steps:?}"
    );
    let called_low = names(card.dangerous_called_low());
    assert!(
        called_low.len() <= dangerous_low,
        "high/critical tools called low: {called_low:?}"
    );
}

#[test]
fn the_two_blind_labellings_and_the_adjudication_cover_every_tool() {
    assert_labelled_blind_twice(Half::Development, DEVELOPMENT_TOOLS);
    let between = labeller_scorecard(
        &set::labels(Half::Development, "labeller-a.json"),
        &set::labels(Half::Development, "labeller-b.json"),
    );
    assert!(
        between.off_by_two().is_empty(),
        "the labellers were never two risk steps apart"
    );
}

#[test]
fn development_half_stays_above_its_floors() {
    let card = classifier_scorecard(Half::Development);
    assert_eq!(
        card.total(),
        DEVELOPMENT_TOOLS,
        "the development side is split.json's development, held_out and held_out_2 lists"
    );
    println!(
        "{}",
        card.report("development (with both former held-out sets)")
    );
    assert_floors(
        &card,
        DEVELOPMENT_CATEGORY_FLOOR,
        DEVELOPMENT_RISK_FLOOR,
        DEVELOPMENT_OFF_BY_TWO,
        DEVELOPMENT_HIGH_CALLED_LOW,
    );
}

#[test]
fn the_third_held_out_set_is_labelled_blind_twice() {
    let servers = set::servers(Half::HeldOut3).expect("split.json lists held_out_3");
    assert_eq!(servers.len(), 14, "held_out_3 is 14 servers");
    assert_labelled_blind_twice(Half::HeldOut3, HELD_OUT_3_TOOLS);
    let between = labeller_scorecard(
        &set::labels(Half::HeldOut3, "labeller-a.json"),
        &set::labels(Half::HeldOut3, "labeller-b.json"),
    );
    assert!(
        between.off_by_two().is_empty(),
        "the labellers were never two risk steps apart"
    );
}

/// The third held-out set, measured once: its figures are a regression floor.
#[test]
fn third_held_out_set_stays_above_its_measured_floors() {
    let card = classifier_scorecard(Half::HeldOut3);
    assert_eq!(card.total(), HELD_OUT_3_TOOLS);
    println!("{}", card.report("third held-out set (measured once)"));
    assert_floors(
        &card,
        HELD_OUT_3_CATEGORY_FLOOR,
        HELD_OUT_3_RISK_FLOOR,
        HELD_OUT_3_OFF_BY_TWO,
        HELD_OUT_3_HIGH_CALLED_LOW,
    );
}

#[test]
fn a_held_out_set_missing_from_the_split_is_absent_and_a_listed_one_is_read() {
    let without = serde_json::json!({"development": ["a.json"], "held_out": ["b.json"], "held_out_2": ["c.json"]});
    assert_eq!(
        set::servers_in(&without, Half::Development),
        Some(vec![
            "a.json".to_owned(),
            "b.json".to_owned(),
            "c.json".to_owned()
        ])
    );
    assert_eq!(set::servers_in(&without, Half::HeldOut3), None);
    let with = serde_json::json!({"held_out_3": ["d.json", "e.json"]});
    assert_eq!(
        set::servers_in(&with, Half::HeldOut3),
        Some(vec!["d.json".to_owned(), "e.json".to_owned()])
    );
}

#[test]
#[should_panic(expected = "split.json has no `held_out_2` list")]
fn a_development_side_missing_one_of_its_lists_is_a_broken_split() {
    let partial = serde_json::json!({"development": ["a.json"], "held_out": ["b.json"]});
    set::servers_in(&partial, Half::Development);
}

/// Tools, category right and risk right at one confidence level.
#[derive(Debug, Default, Clone, Copy)]
struct LevelCount {
    tools: usize,
    category_right: usize,
    risk_right: usize,
}

impl LevelCount {
    fn percent(part: usize, whole: usize) -> f64 {
        part as f64 * 100.0 / whole.max(1) as f64
    }
}

/// The confidence the classifier gives against how often it is right at each level: `low`
/// (review this) should hold the wrong verdicts, `high` should be right.
#[test]
fn confidence_levels_separate_right_from_wrong_verdicts_on_development() {
    let mut counts: BTreeMap<ConfidenceLevel, LevelCount> = BTreeMap::new();
    for labelled in set::half(Half::Development) {
        let assessment = classify(&labelled.tool);
        let count = counts.entry(assessment.confidence.level).or_default();
        count.tools += 1;
        count.category_right +=
            usize::from(assessment.classification.category == labelled.expected.category);
        count.risk_right += usize::from(assessment.classification.risk == labelled.expected.risk);
    }
    assert_eq!(
        counts.values().map(|c| c.tools).sum::<usize>(),
        DEVELOPMENT_TOOLS
    );
    for (level, count) in &counts {
        println!(
            "confidence {level:<6} {:>4} tools  category right {:>5.1}%  risk right {:>5.1}%",
            count.tools,
            LevelCount::percent(count.category_right, count.tools),
            LevelCount::percent(count.risk_right, count.tools)
        );
    }
    let low = counts[&ConfidenceLevel::Low];
    let high = counts[&ConfidenceLevel::High];
    assert!(
        low.tools > 0 && high.tools > 0,
        "both ends are used: {counts:?}"
    );
    assert!(
        LevelCount::percent(low.category_right, low.tools)
            < LevelCount::percent(high.category_right, high.tools),
        "low-confidence verdicts are wrong more often than high ones: {counts:?}"
    );
}

#[test]
fn kappa_of_perfect_and_chance_agreement() {
    assert!((score::kappa(&[[5, 0], [0, 5]]) - 1.0).abs() < 1e-9);
    assert!(score::kappa(&[[25, 25], [25, 25]]).abs() < 1e-9);
}
