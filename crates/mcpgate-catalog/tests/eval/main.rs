//! The classifier on the evaluation set of issue 14 (`eval/`): tools of real MCP servers it
//! was not written against, labelled blind twice and adjudicated.
//!
//! `cargo test -p mcpgate-catalog --test eval -- --nocapture --test-threads 1` prints, for the
//! development side (every set whose misses have been read after its one measurement: the
//! first split's two halves and the second to fourteenth held-out sets) category and risk
//! accuracy, Cohen's κ, both confusion matrices, the per-server figures and every miss.
//! Development floors are the figures after tuning. Once `split.json` lists it, the fifteenth
//! held-out set (`held_out_15`) is printed the same way, with the rules alone and the model
//! alone beside the shipped classifier and the confidence on the set; its floors are exactly
//! what it scored on its one measurement.
//!
//! With `MCPGATE_EVAL_VERDICTS=FILE` the development test also writes every tool's label and
//! verdict to `FILE` (tab-separated), which `eval/compare_verdicts.py BEFORE AFTER` reads to
//! show, server by server, what a change fixed and broke. With
//! `MCPGATE_EVAL_DEV_EVIDENCE=FILE` it writes each tool's label, verdict, confidence and
//! evidence, so a run also shows which signals fired; `MCPGATE_EVAL_EVIDENCE=FILE` does the
//! same for the fifteenth held-out set.

mod score;
mod set;
mod train;

use std::collections::BTreeMap;

use mcpgate_catalog::model::Model;
use mcpgate_catalog::{classify, classify_rules, Assessment, ConfidenceLevel, ToolDefinition};
use mcpgate_policy::Classification;

use score::{Pair, Scorecard};
use set::{Half, LabelledTool, Labels};

/// Development floors: the figures after tuning less a small margin, so a change that makes
/// the classifier worse on the development side fails here. With the fifth held-out set
/// folded in (2,050 tools): 94.8% category (1,943), 89.3% risk (1,831), 13 off by two, 4 high
/// called low before round 6 (round 5's figures on 1,708 were 96.2%, 92.2%, 1, 1); 95.0%
/// (1,947), 89.8% (1,841), 8, 4 after round 6's structural signals; 95.1% (1,950), 90.0%
/// (1,844), 8, 4 with the transformation of a stored object; 95.1% (1,950), 90.0% (1,846),
/// 8, 4 with `all its versions` no cascade. With the sixth held-out set folded in (2,339
/// tools): 92.4% (2,162), 87.4% (2,044), 35, 6 before round 7; 93.3% (2,183), 88.2%
/// (2,063), 21, 7 with a router's `command` read as its operation choice (the seventh called
/// low is Azure's `loadtesting`, read by "Load Testing" as a read). With the seventh held-out
/// set folded in (2,575 tools): 93.5% (2,407), 87.7% (2,257), 22, 7 before round 9; 93.7%
/// (2,414), 88.0% (2,265), 21, 7 with a `transfer` naming no money or ownership a plain write
/// and `open` by at most an id a read; 93.7% (2,414), 88.1% (2,268), 21, 7 with "remove X
/// from a Y" named by id medium; 93.8% (2,416), 88.2% (2,270), 21, 7 with "remove … from" of
/// an array destructive medium. With the eighth held-out set folded in (2,858 tools): 93.3%
/// (2,667), 87.2% (2,493), 35, 13 before round 10; 93.5% (2,673), 87.4% (2,499), 29, 10
/// with a boolean reveal switch a credential read and a preview or estimate a read; 93.6%
/// (2,675), 87.5% (2,501), 27, 8 with a secret field named as returned a credential read;
/// 93.6% (2,675), 87.5% (2,502), 26, 8 with a CLI's command line as an `args` array critical;
/// 93.6% (2,676), 87.6% (2,503), 25, 7 with a create whose links sign someone in a credential;
/// 93.7% (2,677), 87.6% (2,504), 24, 7 with a random password from options alone a read;
/// 93.7% (2,678), 87.6% (2,505), 23, 7 with an edit of concealed fields a credential. With
/// the ninth held-out set folded in (3,152 tools): 93.5% (2,946), 86.7% (2,732), 33, 12
/// before round 11.
/// Round 11: 93.6% (2,949), 86.8% (2,735), 30, 12 with SSH public keys listed, read or relabelled
/// no credential; 93.6% (2,949), 86.9% (2,738), 29, 12 with a mute needing an object of monitoring
/// and a maintenance window silencing; 93.6% (2,950), 86.9% (2,739), 28, 11 with a private key
/// listed among what a read returns a credential read; 93.6% (2,950), 87.0% (2,743), 27, 10 with a
/// write on a firewall's rules or machines high; 93.6% (2,950), 87.1% (2,745), 26, 9 with every
/// open item resolved or acknowledged at once high; 93.6% (2,951), 87.1% (2,746), 25, 8 with a
/// public link a shared one; 93.6% (2,951), 87.4% (2,756), 25, 8 with DNS record edits at the write
/// base and name servers and DNSSEC high; 93.7% (2,952), 87.5% (2,757), 24, 7 with a reblog, repost
/// or boost a re-publication; 93.7% (2,953), 87.5% (2,758), 23, 7 with an edited passwd field a
/// credential; 93.7% (2,953), 88.0% (2,773), 23, 7 with leaves re-made in one call deleted at
/// medium; 93.7% (2,953), 88.0% (2,775), 23, 7 with all associated data or what others will lose a
/// cascade; 93.7% (2,954), 88.1% (2,776), 23, 7 with a name of one plural word a listing; 93.8%
/// (2,957), 88.1% (2,777), 23, 7 with favourite, bookmark and vote write verbs; 93.8% (2,957),
/// 88.2% (2,780), 23, 7 with a created user account high; 93.8% (2,957), 88.3% (2,782), 23, 7 with
/// a file's download link read at medium; 93.9% (2,959), 88.3% (2,784), 23, 7 with a ping naming no
/// host a read; 93.9% (2,961), 88.4% (2,785), 23, 7 with a leading list the resource of a closing
/// write verb; 93.9% (2,961), 88.4% (2,786), 23, 7 with an escalation policy no permission; 94.0%
/// (2,963), 88.4% (2,787), 23, 7 with block a write verb and unblock a toggle; 94.0% (2,963), 88.5%
/// (2,788), 23, 7 with a toggle over listed ids medium; 94.0% (2,963), 88.5% (2,789), 23, 7 with a
/// leading toggle verb the resource of a closing change.
/// 94.1% (2,965), 88.5% (2,790), 22, 7 with a post named for its HTTP method read by its description's verb.
/// 94.1% (2,966), 88.5% (2,791), 21, 7 with detect a read verb.
/// 94.1% (2,966), 88.6% (2,793), 20, 7 with a removal returning a backup id medium.
/// 94.1% (2,967), 88.6% (2,794), 19, 6 with a read offering a secret kind as its object a credential read.
/// 94.2% (2,969), 88.7% (2,796), 17, 6 with a secure password drawn from options alone a read.
/// 94.2% (2,970), 88.7% (2,797), 16, 6 with a listing of vaults themselves a read.
/// 94.3% (2,971), 88.7% (2,797), 15, 6 with blocked rather than shown a masking phrase.
/// With the tenth held-out set folded in (3,448 tools): 94.4% (3,255), 87.7% (3,024), 17, 7
/// before round 12.
/// Round 12: 94.4% (3,256), 87.7% (3,025), 16, 6 with a read of any configuration path a
/// credential; 94.4% (3,256), 87.8% (3,026), 15, 6 with a call of any server function by name
/// critical; 94.4% (3,256), 88.4% (3,047), 15, 6 with a generic record API over a caller-chosen
/// type medium, high and critical; 94.4% (3,256), 88.5% (3,053), 15, 6 with NAT rules, a firewall
/// address list and edits named for a rule network guards; 94.4% (3,256), 88.7% (3,058), 15, 6 with
/// a mapping, an entry, a key result and a correspondent cheap to recreate; 94.5% (3,258), 88.7%
/// (3,060), 15, 6 with a deletion glossed as an archive a write; 94.5% (3,258), 88.9% (3,064), 15,
/// 6 with a patch of declared fields no specification and a list replaced wholesale a warning;
/// 94.6% (3,261), 89.0% (3,067), 15, 6 with any bulk operation over listed items on a tool marked
/// destructive destructive high; 94.6% (3,261), 89.0% (3,070), 15, 6 with a resolver's host
/// override or static entry a DNS record edit; 94.6% (3,261), 89.1% (3,072), 15, 6 with a kind from
/// an enum no listing of any kind; 94.6% (3,261), 89.2% (3,074), 15, 6 with a recurring invoice
/// unattended billing; 94.6% (3,262), 89.2% (3,075), 15, 6 with a timer started a write and stopped
/// at low; 94.6% (3,263), 89.2% (3,076), 15, 6 with a defined report run a read; 94.6% (3,263),
/// 89.3% (3,078), 15, 6 with a correspondent and a report empty additions; 94.7% (3,265), 89.3%
/// (3,080), 15, 6 with an upload of inline content a write; 94.7% (3,266), 89.4% (3,082), 15, 6
/// with an authorization code exchanged a critical credential; 94.8% (3,267), 89.4% (3,083), 15, 6
/// with a stored object converted to another kind a write; 94.8% (3,267), 89.4% (3,084), 15, 6 with
/// every staged change applied at once high; 94.8% (3,267), 89.5% (3,085), 15, 6 with a change that
/// will cut the connection a warning.
/// With the eleventh held-out set folded in (3,701 tools): 94.3% (3,489), 88.1% (3,260), 21, 7
/// before round 13. Round 13's rules (docs/classification.md lists them) took it to 94.5%
/// (3,499), 88.8% (3,286), 14, 6; the blend's one-step move of an unrefined starting risk to
/// 90.9% (3,365), 15, 6, and the local-file upload rule to 94.6% (3,502), 90.9% (3,366), 15,
/// 6. Since that blend these are in-sample figures (the model's weights are counts of these
/// very tools): leave one server out, `train.rs`, is the honest development figure.
/// With the twelfth held-out set folded in (3,946 tools, weights retrained): in-sample 94.2%
/// (3,718), 90.6% (3,577), 15, 7 before round 14.
/// Round 14 took it to 94.3% (3,723), 90.7% (3,578), 14, 6. With the thirteenth folded in
/// (4,188 tools, weights retrained): in-sample 94.2% (3,944), 89.9% (3,766), 22, 7. With the
/// fourteenth folded in (4,435 tools, weights retrained): in-sample 94.0% (4,170), 89.7%
/// (3,977), 25, 8 before round 16. Round 16's five rules took it to 94.1% (4,173), 89.9%
/// (3,987), 24, 7.
const DEVELOPMENT_CATEGORY_FLOOR: f64 = 94.0;
const DEVELOPMENT_RISK_FLOOR: f64 = 89.8;
const DEVELOPMENT_OFF_BY_TWO: usize = 24;
const DEVELOPMENT_HIGH_CALLED_LOW: usize = 7;

/// The development side: 742 tools of the first split, 216 of the second held-out set, 358
/// of the third, 392 of the fourth, 342 of the fifth, 289 of the sixth and 236 of the
/// seventh, 283 of the eighth, 294 of the ninth, 296 of the tenth, 253 of the eleventh, 245 of
/// the twelfth, 242 of the thirteenth and 247 of the fourteenth.
const DEVELOPMENT_TOOLS: usize = 4435;

/// What a held-out set must keep once measured: its size and the figures of its one
/// measurement, as regression floors.
#[derive(Debug, Clone, Copy)]
struct Floors {
    tools: usize,
    category_percent: f64,
    risk_percent: f64,
    off_by_two: usize,
    high_called_low: usize,
}

/// The fifteenth held-out set's floors: the figures of its one measurement (2026-12-03, HEAD
/// 43bd9e9 with the set moved into `split.json`, the classifier of round 16 (`src/` as at
/// 25c9218); the blend changed 12 verdicts of the rules', 10 made right and 2 wrong), exactly as
/// `percent` computes them, recorded in `docs/classification.md` ("Fresh held-out (round 16)").
/// None of the four targets is met, and raising them needs a new held-out set, not tuning on
/// this one. (The fourteenth held-out set's, measured once at 1f5f82f — 226/247 category,
/// 198/247 risk, 2 two steps off, 1 high called low — are history there, in "Fresh held-out
/// (round 15)".)
const HELD_OUT_15_FLOORS: Option<Floors> = Some(Floors {
    tools: 254,
    // 227 of 254 categories right (89.4%).
    category_percent: 227.0 * 100.0 / 254.0,
    // 203 of 254 risks right (79.9%).
    risk_percent: 203.0 * 100.0 / 254.0,
    // Shodan's on_demand_scan, the IMAP server's set_email_flags, Stata's help, Cura's
    // clear_plate.
    off_by_two: 4,
    // on_demand_scan (network high: an active scan of a caller-chosen address; called read low).
    high_called_low: 1,
});

/// The fifteenth held-out set's pairs of blind labels two or more risk steps apart, as the
/// adjudication (`labels/held-out-15/adjudicated.json`) found them: none. All 38 of its
/// disagreements were one risk step apart (the labellers agreed on every category).
const HELD_OUT_15_LABELLERS_TWO_STEPS_APART: &[&str] = &[];

/// Whether the fifteenth held-out set is in `split.json`. Before its measurement it may be
/// absent (nothing of it is read); once [`HELD_OUT_15_FLOORS`] records one, it must be there,
/// so its tests cannot pass by reading nothing.
fn held_out_15_listed() -> bool {
    let listed = set::servers(Half::HeldOut15).is_some();
    assert!(
        listed || HELD_OUT_15_FLOORS.is_none(),
        "held_out_15 was measured (HELD_OUT_15_FLOORS), so split.json must list it"
    );
    if !listed {
        println!("held_out_15: not in split.json yet, nothing of it read");
    }
    listed
}

fn pair(labelled: &LabelledTool, actual: Classification) -> Pair {
    Pair {
        actual,
        name: labelled.tool.name().to_owned(),
        server: labelled.server.clone(),
        expected: labelled.expected,
        why: labelled.why.clone(),
    }
}

fn classifier_scorecard(half: Half) -> Scorecard {
    scorecard_of(&set::half(half), |tool| classify(tool).classification)
}

fn scorecard_of(
    tools: &[LabelledTool],
    verdict: impl Fn(&ToolDefinition) -> Classification,
) -> Scorecard {
    let pairs = tools
        .iter()
        .map(|labelled| pair(labelled, verdict(&labelled.tool)))
        .collect();
    Scorecard { pairs }
}

/// Every tool of a half as `server, tool, label category, label risk, category, risk,
/// confidence, evidence`, one a line, tab-separated, the evidence messages joined by ` | `:
/// which signals decided each verdict (`MCPGATE_EVAL_DEV_EVIDENCE=FILE`).
fn evidence_tsv(half: Half) -> String {
    let mut out = String::new();
    for labelled in set::half(half) {
        let assessment = classify(&labelled.tool);
        let evidence: Vec<&str> = assessment
            .evidence
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            labelled.server,
            labelled.tool.name(),
            labelled.expected.category,
            labelled.expected.risk,
            assessment.classification.category,
            assessment.classification.risk,
            assessment.confidence.level,
            evidence.join(" | ")
        ));
    }
    out
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
    assert_eq!(
        names(between.off_by_two()),
        LABELLERS_TWO_STEPS_APART,
        "the labellers' only disagreements of two or more risk steps (from the fifth and ninth held-out sets)"
    );
}

#[test]
fn development_half_stays_above_its_floors() {
    let card = classifier_scorecard(Half::Development);
    assert_eq!(
        card.total(),
        DEVELOPMENT_TOOLS,
        "the development side is split.json's development, held_out and held_out_2 to held_out_15 lists"
    );
    println!(
        "{}",
        card.report("development (with the fourteen former held-out sets)")
    );
    for part in Half::Development.parts() {
        let servers = set::part_servers(part);
        let pairs = card
            .pairs
            .iter()
            .filter(|p| servers.contains(&format!("{}.json", p.server)))
            .map(Pair::clone)
            .collect();
        println!("  from {}: {}", part.key, Scorecard { pairs }.headline());
    }
    if let Some(path) = std::env::var_os("MCPGATE_EVAL_VERDICTS") {
        std::fs::write(&path, card.verdicts_tsv()).expect("writing MCPGATE_EVAL_VERDICTS");
    }
    if let Some(path) = std::env::var_os("MCPGATE_EVAL_DEV_EVIDENCE") {
        let evidence = evidence_tsv(Half::Development);
        std::fs::write(&path, evidence).expect("writing MCPGATE_EVAL_DEV_EVIDENCE");
    }
    assert_floors(
        &card,
        DEVELOPMENT_CATEGORY_FLOOR,
        DEVELOPMENT_RISK_FLOOR,
        DEVELOPMENT_OFF_BY_TWO,
        DEVELOPMENT_HIGH_CALLED_LOW,
    );
}

/// The development side's pairs of blind labels two or more risk steps apart. From the fifth
/// held-out set: Bitwarden's `edit_send` (labeller-a write medium, labeller-b credential
/// critical), adjudicated credential critical since its `password` argument replaces a Send's
/// access password. From the ninth: Mastodon's `status_reblog` (labeller-a network high, a
/// re-publication to the account's followers; labeller-b write low, a reaction), adjudicated
/// in `labels/held-out-9/adjudicated.json`. Every other disagreement was one step.
const LABELLERS_TWO_STEPS_APART: &[&str] =
    &["bitwarden-mcp/edit_send", "mastodon-mcp/status_reblog"];

#[test]
fn the_development_side_reads_its_fifteen_lists_in_order_and_a_split_without_them_is_absent() {
    let split = serde_json::json!({"development": ["a.json"], "held_out": ["b.json"], "held_out_2": ["c.json"], "held_out_3": ["d.json"], "held_out_4": ["e.json"], "held_out_5": ["f.json"], "held_out_6": ["g.json", "h.json"], "held_out_7": ["i.json"], "held_out_8": ["j.json"], "held_out_9": ["k.json"], "held_out_10": ["l.json"], "held_out_11": ["m.json"], "held_out_12": ["n.json"], "held_out_13": ["o.json"], "held_out_14": ["p.json"]});
    assert_eq!(
        set::servers_in(&split, Half::Development),
        Some(vec![
            "a.json".to_owned(),
            "b.json".to_owned(),
            "c.json".to_owned(),
            "d.json".to_owned(),
            "e.json".to_owned(),
            "f.json".to_owned(),
            "g.json".to_owned(),
            "h.json".to_owned(),
            "i.json".to_owned(),
            "j.json".to_owned(),
            "k.json".to_owned(),
            "l.json".to_owned(),
            "m.json".to_owned(),
            "n.json".to_owned(),
            "o.json".to_owned(),
            "p.json".to_owned()
        ])
    );
    let unrelated = serde_json::json!({"held_out_15": ["q.json"]});
    assert_eq!(set::servers_in(&unrelated, Half::Development), None);
}

#[test]
fn the_fifteenth_held_out_set_is_its_own_list_and_absent_from_a_split_without_it() {
    let with = serde_json::json!({"development": ["a.json"], "held_out_15": ["q.json", "r.json"]});
    assert_eq!(
        set::servers_in(&with, Half::HeldOut15),
        Some(vec!["q.json".to_owned(), "r.json".to_owned()])
    );
    let without = serde_json::json!({"development": ["a.json"], "held_out_14": ["p.json"]});
    assert_eq!(set::servers_in(&without, Half::HeldOut15), None);
}

#[test]
#[should_panic(expected = "split.json has no `held_out_14` list")]
fn a_development_side_missing_one_of_its_lists_is_a_broken_split() {
    let partial = serde_json::json!({"development": ["a.json"], "held_out": ["b.json"], "held_out_2": ["c.json"], "held_out_3": ["d.json"], "held_out_4": ["e.json"], "held_out_5": ["f.json"], "held_out_6": ["g.json"], "held_out_7": ["i.json"], "held_out_8": ["j.json"], "held_out_9": ["k.json"], "held_out_10": ["l.json"], "held_out_11": ["m.json"], "held_out_12": ["n.json"], "held_out_13": ["o.json"]});
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
    let (mut wrong_risks, mut wrong_risks_low) = (0usize, 0usize);
    for labelled in set::half(Half::Development) {
        let assessment = classify(&labelled.tool);
        if assessment.classification.risk != labelled.expected.risk {
            wrong_risks += 1;
            wrong_risks_low += usize::from(assessment.confidence.needs_review());
        }
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
    let low_share = LevelCount::percent(low.tools, DEVELOPMENT_TOOLS);
    let caught = LevelCount::percent(wrong_risks_low, wrong_risks);
    println!(
        "low (review this): {:.1}% of tools; {wrong_risks_low} of {wrong_risks} wrong risks marked low ({caught:.1}%)",
        low_share
    );
    assert!(wrong_risks > 0, "precondition: some risks are wrong");
    // Round 6 (2,050 tools): 28.4% of tools low, 122 of 209 wrong risks (58.4%) marked low;
    // round 5's rules gave 17.7% and 30.6%. With the sixth held-out set folded in (2,339
    // tools, round 6's rules): 27.7% low, 155 of 295 (52.5%); the set's own 35 of 91 pull it
    // below round 6's 55%.
    // Round 8: the model's doubt (a verdict it gives under 5%) takes it to 30.2% low and
    // 183 of 276 (66.3%); the bound is "about 30%". With the seventh held-out set folded in
    // (2,575 tools, before round 9): 30.2% low, 205 of 318 (64.5%); round 9's `transfer` and
    // `open`: 30.3%, 202 of 310 (65.2%); with its removal from a named container 30.3%, 201
    // of 307 (65.5%); with an array removed from something 30.2%, 199 of 305 (65.2%). With
    // the eighth held-out set folded in (2,858 tools, before round 10): 29.7%, 227 of 365
    // (62.2%); round 10's reveal switch and previews: 29.8%, 224 of 359 (62.4%); a secret
    // field named as returned: 29.8%, 223 of 357 (62.5%); an `args` command line: 29.8%, 222
    // of 356 (62.4%); a create whose links sign someone in: 29.8%, 222 of 355 (62.5%); the
    // doubt for a sensitive-read hint no rule took: 30.0%, 222 of 355; a local password
    // generator a read: 30.0%, 222 of 354 (62.7%); an edit of concealed fields: 29.9%, 221
    // of 353 (62.6%). With the ninth held-out set folded in (3,152 tools, before round 11):
    // 30.0%, 257 of 420 (61.2%).
    // Round 11: with SSH public keys listed, read or relabelled no credential: 30.0%, 255 of 417
    // (61.2%); with a mute needing an object of monitoring and a maintenance window silencing:
    // 29.9%, 253 of 414 (61.1%); with a private key listed among what a read returns a credential
    // read: 30.0%, 253 of 413 (61.3%); with a write on a firewall's rules or machines high: 29.9%,
    // 249 of 409 (60.9%); with every open item resolved or acknowledged at once high: 29.9%, 248 of
    // 407 (60.9%); with a public link a shared one: 29.9%, 248 of 406 (61.1%); with DNS record
    // edits at the write base and name servers and DNSSEC high: 30.1%, 246 of 396 (62.1%); with a
    // reblog, repost or boost a re-publication: 30.0%, 245 of 395 (62.0%); with an edited passwd
    // field a credential: 30.0%, 244 of 394 (61.9%); with leaves re-made in one call deleted at
    // medium: 29.9%, 239 of 379 (63.1%); with all associated data or what others will lose a
    // cascade: 29.8%, 237 of 377 (62.9%); with a name of one plural word a listing: 29.8%, 236 of
    // 376 (62.8%); with favourite, bookmark and vote write verbs: 29.8%, 235 of 375 (62.7%); with a
    // created user account high: 29.7%, 232 of 372 (62.4%); with a file's download link read at
    // medium: 29.7%, 232 of 370 (62.7%); with a ping naming no host a read: 29.7%, 230 of 368
    // (62.5%); with a leading list the resource of a closing write verb: 29.6%, 229 of 367 (62.4%);
    // with an escalation policy no permission: 29.6%, 229 of 366 (62.6%); with block a write verb
    // and unblock a toggle: 29.6%, 228 of 365 (62.5%); with a toggle over listed ids medium: 29.6%,
    // 228 of 364 (62.6%); with a leading toggle verb the resource of a closing change: 29.6%, 228
    // of 363 (62.8%).
    // with a post named for its HTTP method read by its description's verb: 29.6%, 227 of 362 (62.7%).
    // with detect a read verb: 29.6%, 226 of 361 (62.6%).
    // with a removal returning a backup id medium: 29.5%, 225 of 359 (62.7%).
    // with a read offering a secret kind as its object a credential read: 29.6%, 225 of 358 (62.8%).
    // with a secure password drawn from options alone a read: 29.5%, 224 of 356 (62.9%).
    // with a listing of vaults themselves a read: 29.5%, 223 of 355 (62.8%).
    // with blocked rather than shown a masking phrase: 29.5%, 222 of 355 (62.5%). With the
    // tenth held-out set folded in (3,448 tools, before round 12): 28.7%, 240 of 424 (56.6%).
    // Round 12: with a read of any configuration path a credential: 28.7%, 240 of 423 (56.7%); with
    // a call of any server function by name critical: 28.7%, 240 of 422 (56.9%); with a generic
    // record API over a caller-chosen type medium, high and critical: 28.6%, 237 of 401 (59.1%);
    // with NAT rules, a firewall address list and edits named for a rule network guards: 28.4%, 231
    // of 395 (58.5%); with a mapping, an entry, a key result and a correspondent cheap to recreate:
    // 28.4%, 229 of 390 (58.7%); with a deletion glossed as an archive a write: 28.4%, 229 of 388
    // (59.0%); with a patch of declared fields no specification and a list replaced wholesale a
    // warning: 28.4%, 229 of 384 (59.6%); with any bulk operation over listed items on a tool
    // marked destructive destructive high: 28.5%, 229 of 381 (60.1%); with a resolver's host
    // override or static entry a DNS record edit: 28.5%, 229 of 378 (60.6%); with a kind from an
    // enum no listing of any kind: 28.5%, 229 of 376 (60.9%); with a recurring invoice unattended
    // billing: 28.5%, 227 of 374 (60.7%); with a timer started a write and stopped at low: 28.5%,
    // 226 of 373 (60.6%); with a defined report run a read: 28.5%, 226 of 372 (60.8%); with a
    // correspondent and a report empty additions: 28.5%, 225 of 370 (60.8%); with an upload of
    // inline content a write: 28.5%, 225 of 368 (61.1%); with an authorization code exchanged a
    // critical credential: 28.5%, 223 of 366 (60.9%); with a stored object converted to another
    // kind a write: 28.5%, 223 of 365 (61.1%); with every staged change applied at once high:
    // 28.5%, 222 of 364 (61.0%); with a change that will cut the connection a warning: 28.5%, 221
    // of 363 (60.9%).
    assert!(
        low_share <= 30.5,
        "review stays a minority: {low_share:.1}% low"
    );
    assert!(
        caught >= 50.0,
        "most wrong risks are marked for review: {caught:.1}%"
    );
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

/// The fifteenth held-out set, once `split.json` lists it: both blind labellings and the
/// adjudication cover every one of its tools, and the labellers were two risk steps apart
/// only where [`HELD_OUT_15_LABELLERS_TWO_STEPS_APART`] says.
#[test]
fn the_fifteenth_held_out_set_is_labelled_blind_twice_once_it_is_in_the_split() {
    if !held_out_15_listed() {
        return;
    }
    let servers = set::servers(Half::HeldOut15).expect("split.json lists held_out_15");
    assert!(!servers.is_empty(), "held_out_15 lists its servers");
    let tools = set::definitions(Half::HeldOut15).len();
    assert!(tools > 0, "held_out_15's server files hold tools");
    let measured = HELD_OUT_15_FLOORS.map_or(tools, |floors| floors.tools);
    assert_eq!(tools, measured, "held_out_15 is the set that was measured");
    assert_labelled_blind_twice(Half::HeldOut15, tools);
    let between = labeller_scorecard(
        &set::labels(Half::HeldOut15, "labeller-a.json"),
        &set::labels(Half::HeldOut15, "labeller-b.json"),
    );
    assert_eq!(
        names(between.off_by_two()),
        HELD_OUT_15_LABELLERS_TWO_STEPS_APART,
        "the labellers' disagreements of two or more risk steps"
    );
}

/// How one reading's confidence sorts a set's tools: per level, how many and how often
/// right; how many are low (review this) and how many of the wrong risks they hold; on how
/// many the model's doubt (`Blend::SHIPPED`) was one of the reasons.
fn print_confidence(
    title: &str,
    tools: &[LabelledTool],
    assess: impl Fn(&ToolDefinition) -> Assessment,
) {
    let mut counts: BTreeMap<ConfidenceLevel, LevelCount> = BTreeMap::new();
    let (mut wrong_risks, mut wrong_risks_low) = (0usize, 0usize);
    let (mut doubted, mut doubted_wrong, mut doubted_low) = (0usize, 0usize, 0usize);
    for labelled in tools {
        let assessment = assess(&labelled.tool);
        let low = assessment.confidence.needs_review();
        let wrong = assessment.classification.risk != labelled.expected.risk;
        if wrong {
            wrong_risks += 1;
            wrong_risks_low += usize::from(low);
        }
        let by_model = assessment
            .confidence
            .reasons
            .iter()
            .any(|r| r.starts_with("the model reads"));
        if by_model {
            doubted += 1;
            doubted_wrong += usize::from(wrong);
            doubted_low += usize::from(low);
        }
        let count = counts.entry(assessment.confidence.level).or_default();
        count.tools += 1;
        count.category_right +=
            usize::from(assessment.classification.category == labelled.expected.category);
        count.risk_right += usize::from(assessment.classification.risk == labelled.expected.risk);
    }
    println!("confidence, {title}:");
    for (level, count) in &counts {
        println!(
            "  confidence {level:<6} {:>4} tools  category right {:>5.1}%  risk right {:>5.1}%",
            count.tools,
            LevelCount::percent(count.category_right, count.tools),
            LevelCount::percent(count.risk_right, count.tools)
        );
    }
    let low = counts.get(&ConfidenceLevel::Low).map_or(0, |c| c.tools);
    println!(
        "  low (review this): {low} of {} tools ({:.1}%); {wrong_risks_low} of {wrong_risks} wrong risks marked low ({:.1}%); the model's doubt on {doubted} tools ({doubted_wrong} wrong risks, {doubted_low} low)",
        tools.len(),
        LevelCount::percent(low, tools.len()),
        LevelCount::percent(wrong_risks_low, wrong_risks)
    );
}

/// The fifteenth held-out set: its one measurement, printed (the shipped classifier, the rules
/// alone where they differ, the model alone, and the confidence of the first two), and kept
/// as a regression floor ([`HELD_OUT_15_FLOORS`]).
#[test]
fn the_fifteenth_held_out_set_is_measured_once_it_is_in_the_split() {
    if !held_out_15_listed() {
        return;
    }
    let tools = set::half(Half::HeldOut15);
    let card = scorecard_of(&tools, |tool| classify(tool).classification);
    assert!(card.total() > 0, "held_out_15 holds labelled tools");
    println!(
        "{}",
        card.report("fifteenth held-out set, shipped classify()")
    );
    let rules = scorecard_of(&tools, |tool| classify_rules(tool).classification);
    let differing = card
        .pairs
        .iter()
        .zip(&rules.pairs)
        .filter(|(shipped, alone)| shipped.actual != alone.actual)
        .count();
    if differing == 0 {
        println!(
            "rules alone, classify_rules(): the same verdict as classify() on every tool: {}",
            rules.headline()
        );
    } else {
        println!(
            "rules alone differ on {differing} tools:\n{}",
            rules.report("fifteenth held-out set, rules alone")
        );
    }
    let model = Model::shipped();
    let alone = scorecard_of(&tools, |tool| {
        let prediction = model.predict(tool);
        Classification {
            category: prediction.category,
            risk: prediction.risk,
        }
    });
    println!("{}", alone.report("fifteenth held-out set, model alone"));
    print_confidence("shipped classify()", &tools, classify);
    print_confidence("rules alone", &tools, classify_rules);
    if let Some(path) = std::env::var_os("MCPGATE_EVAL_EVIDENCE") {
        let evidence = evidence_tsv(Half::HeldOut15);
        std::fs::write(&path, evidence).expect("writing MCPGATE_EVAL_EVIDENCE");
    }
    match HELD_OUT_15_FLOORS {
        Some(floors) => {
            assert_eq!(card.total(), floors.tools);
            assert_floors(
                &card,
                floors.category_percent,
                floors.risk_percent,
                floors.off_by_two,
                floors.high_called_low,
            );
        }
        None => println!(
            "held_out_15 floors not recorded yet: record this measurement in HELD_OUT_15_FLOORS"
        ),
    }
}
