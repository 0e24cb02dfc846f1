//! The classifier on the evaluation set of issue 14 (`eval/`): 742 tools of 24 real MCP
//! servers it was not written against, labelled blind twice and adjudicated.
//!
//! `cargo test -p mcpgate-catalog --test eval -- --nocapture --test-threads 1` prints, for each
//! half, category and risk accuracy, Cohen's κ, both confusion matrices, the per-server
//! figures and every miss. Floors are asserted on the development half only; the held-out
//! half is measured and printed, never asserted, so that nobody tunes against it.

mod score;
mod set;

use mcpgate_catalog::classify;

use score::{Pair, Scorecard};
use set::{Half, Labels};

/// Development-half floors: the figures after tuning, rounded down, so a change that makes
/// the classifier worse on the development half fails here.
const DEVELOPMENT_CATEGORY_FLOOR: f64 = 97.5;
const DEVELOPMENT_RISK_FLOOR: f64 = 93.5;

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

fn labeller_scorecard(reference: &Labels, other: &Labels, half: Option<Half>) -> Scorecard {
    let servers: Option<Vec<String>> = half.map(|h| {
        set::servers(h)
            .into_iter()
            .map(|f| f.trim_end_matches(".json").to_owned())
            .collect()
    });
    let mut pairs = Vec::new();
    for (server, tools) in reference {
        if servers.as_ref().is_some_and(|s| !s.contains(server)) {
            continue;
        }
        for (name, expected) in tools {
            let actual = other[server][name];
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

#[test]
fn the_two_blind_labellings_and_the_adjudication_cover_every_tool() {
    let a = set::labels("labeller-a.json");
    let b = set::labels("labeller-b.json");
    let adjudicated = set::labels("adjudicated.json");
    let count = |labels: &Labels| labels.values().map(|tools| tools.len()).sum::<usize>();
    assert_eq!(count(&a), 742);
    assert_eq!(count(&b), 742);
    assert_eq!(count(&adjudicated), 742);
    let development = set::half(Half::Development).len();
    let held_out = set::half(Half::HeldOut).len();
    assert_eq!((development, held_out), (385, 357));
    for (title, half) in [
        ("development", Some(Half::Development)),
        ("held out", Some(Half::HeldOut)),
        ("all", None),
    ] {
        let card = labeller_scorecard(&a, &b, half);
        println!("labeller-a vs labeller-b, {title}: {}", card.headline());
    }
    let between = labeller_scorecard(&a, &b, None);
    assert!(
        between.off_by_two().is_empty(),
        "the labellers were never two risk steps apart"
    );
    for (who, labels) in [("labeller-a", &a), ("labeller-b", &b)] {
        println!(
            "{who} vs adjudicated, all: {}",
            labeller_scorecard(&adjudicated, labels, None).headline()
        );
    }
}

#[test]
fn development_half_stays_above_its_floors() {
    let card = classifier_scorecard(Half::Development);
    assert_eq!(
        card.total(),
        385,
        "the development half is the 385 tools of split.json"
    );
    println!("{}", card.report("development half"));
    assert!(
        card.category_percent() >= DEVELOPMENT_CATEGORY_FLOOR,
        "category {:.1}%",
        card.category_percent()
    );
    assert!(
        card.risk_percent() >= DEVELOPMENT_RISK_FLOOR,
        "risk {:.1}%",
        card.risk_percent()
    );
    let names = |pairs: Vec<&Pair>| -> Vec<String> {
        pairs
            .iter()
            .map(|p| format!("{}/{}", p.server, p.name))
            .collect()
    };
    let off_by_two = names(card.off_by_two());
    assert!(
        off_by_two.is_empty(),
        "tools two or more risk steps off: {off_by_two:?}"
    );
    let dangerous_low = names(card.dangerous_called_low());
    assert!(
        dangerous_low.is_empty(),
        "high/critical tools called low: {dangerous_low:?}"
    );
}

/// Measured and printed, never asserted beyond its size: the held-out half is for reporting.
#[test]
fn held_out_half_is_measured_without_floors() {
    let card = classifier_scorecard(Half::HeldOut);
    assert_eq!(
        card.total(),
        357,
        "the held-out half is the 357 tools of split.json"
    );
    println!("{}", card.report("held-out half"));
}

#[test]
fn kappa_of_perfect_and_chance_agreement() {
    assert!((score::kappa(&[[5, 0], [0, 5]]) - 1.0).abs() < 1e-9);
    assert!(score::kappa(&[[25, 25], [25, 25]]).abs() < 1e-9);
}
