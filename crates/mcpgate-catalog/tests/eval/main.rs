//! The classifier on the evaluation set of issue 14 (`eval/`): tools of real MCP servers it
//! was not written against, labelled blind twice and adjudicated.
//!
//! `cargo test -p mcpgate-catalog --test eval -- --nocapture --test-threads 1` prints, for the
//! development side (the first split's two halves: the first held-out half was folded in
//! once its misses had been read) and the second held-out set, category and risk accuracy,
//! Cohen's κ, both confusion matrices, the per-server figures and every miss. Floors are
//! the figures after tuning (development) and the one measurement (second held-out set).

mod score;
mod set;

use mcpgate_catalog::classify;

use score::{Pair, Scorecard};
use set::{Half, Labels};

/// Development floors: the figures after tuning, rounded down, so a change that makes the
/// classifier worse on the development side fails here.
const DEVELOPMENT_CATEGORY_FLOOR: f64 = 95.5;
const DEVELOPMENT_RISK_FLOOR: f64 = 91.0;
/// One tool, `firecrawl_parse`: it reads a file off the server's disk and posts it to the
/// service (labelled network high, like an upload); nothing in its words says so.
const DEVELOPMENT_OFF_BY_TWO: usize = 1;
const DEVELOPMENT_HIGH_CALLED_LOW: usize = 1;

/// The second held-out set: its size, and the figures measured on it once after tuning
/// (2026-12-01, the classifier of commit 79f9038), kept exactly as a regression floor. They
/// are below the targets; raising them needs a new held-out set, not tuning on this one.
const HELD_OUT_2_TOOLS: usize = 216;
/// 190 of 216 categories right (88.0%), written as `percent` computes it.
const HELD_OUT_2_CATEGORY_FLOOR: f64 = 190.0 * 100.0 / 216.0;
/// 162 of 216 risks right (75.0%).
const HELD_OUT_2_RISK_FLOOR: f64 = 162.0 * 100.0 / 216.0;
const HELD_OUT_2_OFF_BY_TWO: usize = 7;
/// `advsec_get_alerts`, `advsec_get_alert_details` and `kubectl_get` (credential high, called
/// read low).
const HELD_OUT_2_HIGH_CALLED_LOW: usize = 3;

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
    assert_labelled_blind_twice(Half::Development, 742);
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
        742,
        "the development side is the 742 tools of split.json's development and held_out lists"
    );
    println!(
        "{}",
        card.report("development (with the former held-out half)")
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
fn the_second_held_out_set_is_labelled_blind_twice() {
    assert_labelled_blind_twice(Half::HeldOut2, HELD_OUT_2_TOOLS);
    let between = labeller_scorecard(
        &set::labels(Half::HeldOut2, "labeller-a.json"),
        &set::labels(Half::HeldOut2, "labeller-b.json"),
    );
    assert!(
        between.off_by_two().is_empty(),
        "the labellers were never two risk steps apart"
    );
}

/// The second held-out set, measured once after tuning: its figures are a regression floor.
#[test]
fn second_held_out_set_stays_above_its_measured_floors() {
    let card = classifier_scorecard(Half::HeldOut2);
    assert_eq!(card.total(), HELD_OUT_2_TOOLS);
    println!("{}", card.report("second held-out set"));
    assert_floors(
        &card,
        HELD_OUT_2_CATEGORY_FLOOR,
        HELD_OUT_2_RISK_FLOOR,
        HELD_OUT_2_OFF_BY_TWO,
        HELD_OUT_2_HIGH_CALLED_LOW,
    );
}

#[test]
fn kappa_of_perfect_and_chance_agreement() {
    assert!((score::kappa(&[[5, 0], [0, 5]]) - 1.0).abs() < 1e-9);
    assert!(score::kappa(&[[25, 25], [25, 25]]).abs() < 1e-9);
}
