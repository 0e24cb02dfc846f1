//! The model's trainer and its honest estimate (round 8 of `docs/classification.md`).
//!
//! Training counts, for every development tool (the servers `split.json` lists, with their
//! adjudicated labels, in file order), which features it has under its category and risk;
//! the committed `src/model/weights.json` must be exactly that, so a change to labels or
//! features without retraining fails here. Retrain with
//! `MCPGATE_TRAIN_MODEL=1 cargo test -p mcpgate-catalog --test eval train -- --nocapture`.
//!
//! Leave-one-server-out: for each of the development servers, a model trained on the
//! others predicts its tools, as a fresh server would be predicted. The rules were tuned on
//! every server, so their figure here is optimistic; the model's is not.

use std::path::PathBuf;

use mcpgate_catalog::model::{Blend, Counts, Model, Prediction};
use mcpgate_catalog::{classify_rules, Assessment, ConfidenceLevel};
use mcpgate_policy::Classification;

use crate::score::{Pair, Scorecard};
use crate::set::{self, Half, LabelledTool};

fn weights_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/model/weights.json")
}

fn counts_of<'a>(tools: impl IntoIterator<Item = &'a LabelledTool>) -> Counts {
    let mut counts = Counts::default();
    for labelled in tools {
        counts.add(&labelled.tool, labelled.expected);
    }
    counts
}

#[test]
fn train_the_committed_weights_are_what_training_on_development_gives() {
    let tools = set::half(Half::Development);
    assert_eq!(
        tools.len(),
        crate::DEVELOPMENT_TOOLS,
        "precondition: the whole development side"
    );
    let trained = counts_of(&tools).pruned().to_json();
    if std::env::var_os("MCPGATE_TRAIN_MODEL").is_some() {
        std::fs::write(weights_path(), &trained).expect("writing src/model/weights.json");
        println!(
            "wrote {} ({} bytes)",
            weights_path().display(),
            trained.len()
        );
    }
    let committed = std::fs::read_to_string(weights_path()).expect("src/model/weights.json");
    assert!(
        committed == trained,
        "src/model/weights.json is not what training on development gives: retrain with MCPGATE_TRAIN_MODEL=1 (see tests/eval/train.rs)"
    );
}

/// One development tool with the rules' verdict and the prediction of a model that never
/// saw its server.
struct Fold {
    labelled: LabelledTool,
    rules: Assessment,
    prediction: Prediction,
}

fn leave_one_server_out() -> Vec<Fold> {
    leave_one_server_out_at(mcpgate_catalog::model::TEMPERATURE)
}

fn leave_one_server_out_at(temperature: f64) -> Vec<Fold> {
    let tools = set::half(Half::Development);
    let all = counts_of(&tools);
    let mut servers: Vec<String> = tools.iter().map(|t| t.server.clone()).collect();
    servers.dedup();
    let mut folds = Vec::with_capacity(tools.len());
    let mut by_server: Vec<(String, Vec<LabelledTool>)> =
        servers.into_iter().map(|s| (s, Vec::new())).collect();
    for labelled in tools {
        let slot = by_server
            .iter_mut()
            .find(|(s, _)| *s == labelled.server)
            .expect("a listed server");
        slot.1.push(labelled);
    }
    for (_, own) in by_server {
        let model = Model::from_counts(&all.without(&counts_of(&own)).pruned())
            .with_temperature(temperature);
        for labelled in own {
            folds.push(Fold {
                rules: classify_rules(&labelled.tool),
                prediction: model.predict(&labelled.tool),
                labelled,
            });
        }
    }
    folds
}

/// A scorecard, with how many tools are marked low and how many wrong risks that catches.
struct Measured {
    card: Scorecard,
    low: usize,
    wrong_risks: usize,
    wrong_risks_low: usize,
}

impl Measured {
    fn line(&self, title: &str) -> String {
        format!(
            "{title:<44} {}; low {:.1}%, {} of {} wrong risks low",
            self.card.headline(),
            self.low as f64 * 100.0 / self.card.total() as f64,
            self.wrong_risks_low,
            self.wrong_risks
        )
    }
}

fn measure(folds: &[Fold], verdict: impl Fn(&Fold) -> Assessment) -> Measured {
    measure_refs(&folds.iter().collect::<Vec<_>>(), verdict)
}

fn measure_refs(folds: &[&Fold], verdict: impl Fn(&Fold) -> Assessment) -> Measured {
    let mut measured = Measured {
        card: Scorecard { pairs: Vec::new() },
        low: 0,
        wrong_risks: 0,
        wrong_risks_low: 0,
    };
    for fold in folds {
        let assessment = verdict(fold);
        let low = assessment.confidence.needs_review();
        measured.low += usize::from(low);
        if assessment.classification.risk != fold.labelled.expected.risk {
            measured.wrong_risks += 1;
            measured.wrong_risks_low += usize::from(low);
        }
        measured.card.pairs.push(Pair {
            server: fold.labelled.server.clone(),
            name: fold.labelled.tool.name().to_owned(),
            expected: fold.labelled.expected,
            actual: assessment.classification,
            why: String::new(),
        });
    }
    measured
}

fn model_alone(fold: &Fold) -> Assessment {
    let mut assessment = fold.rules.clone();
    assessment.classification = Classification {
        category: fold.prediction.category,
        risk: fold.prediction.risk,
    };
    assessment
}

/// Floors on leave-one-server-out figures: category %, risk %, most tools two risk steps
/// off, most high/critical called low.
type Floors = (f64, f64, usize, usize);

/// The model alone, predicting each server from the others (round 8, 90 servers: 86.4%
/// (2,020), 74.9% (1,752), 102, 56; with the seventh held-out set folded in, 97 servers:
/// 87.4%, 75.9%, 100, 56; with the eighth, 105 servers: 87.9%, 76.3%, 110, 59; with the
/// ninth, 114 servers: 87.6%, 76.2%, 113, 66; with the tenth, 124 servers: 88.6%, 76.6%,
/// 123, 65; with the eleventh, 134 servers: 88.6%, 76.1%, 124, 64; with the twelfth, 144
/// servers: 88.1%, 76.1%, 126, 71; with the thirteenth, 154 servers: 88.2%, 76.2%, 130, 72;
/// with the fourteenth, 164 servers: 88.5%, 76.2%, 135, 73).
const MODEL_ALONE_FLOORS: Floors = (88.3, 76.0, 135, 73);

/// The shipped combination on the same folds (round 8: it only doubts, so the rules'
/// verdicts, 93.3%, 88.2%, 21, 7; with the seventh held-out set folded in 93.5%, 87.7%, 22,
/// 7 before round 9, 93.7%, 88.0%, 21, 7 with its `transfer` and `open`, 93.7%, 88.1%, 21,
/// 7 with its removal from a named container, 93.8%, 88.2%, 21, 7 with an array removed
/// from something; with the eighth folded in 93.3%, 87.2%, 35, 13 before round 10, 93.5%,
/// 87.4%, 29, 10 with its reveal switch and previews, 93.6%, 87.5%, 27, 8 with a secret
/// field named as returned, 93.6%, 87.5%, 26, 8 with a CLI's command line as an `args`
/// array, 93.6%, 87.6%, 25, 7 with a create whose links sign someone in, 93.7%, 87.6%, 24, 7
/// with a local password generator a read, 93.7%, 87.6%, 23, 7 with an edit of concealed
/// fields a credential; with the ninth folded in 93.5%, 86.7%, 33, 12 before round 11; see
/// `docs/classification.md`).
/// Round 11: 93.6%, 86.8%, 30, 12 with SSH public keys listed, read or relabelled no credential;
/// 93.6%, 86.9%, 29, 12 with a mute needing an object of monitoring and a maintenance window
/// silencing; 93.6%, 86.9%, 28, 11 with a private key listed among what a read returns a credential
/// read; 93.6%, 87.0%, 27, 10 with a write on a firewall's rules or machines high; 93.6%, 87.1%,
/// 26, 9 with every open item resolved or acknowledged at once high; 93.6%, 87.1%, 25, 8 with a
/// public link a shared one; 93.6%, 87.4%, 25, 8 with DNS record edits at the write base and name
/// servers and DNSSEC high; 93.7%, 87.5%, 24, 7 with a reblog, repost or boost a re-publication;
/// 93.7%, 87.5%, 23, 7 with an edited passwd field a credential; 93.7%, 88.0%, 23, 7 with leaves
/// re-made in one call deleted at medium; 93.7%, 88.0%, 23, 7 with all associated data or what
/// others will lose a cascade; 93.7%, 88.1%, 23, 7 with a name of one plural word a listing; 93.8%,
/// 88.1%, 23, 7 with favourite, bookmark and vote write verbs; 93.8%, 88.2%, 23, 7 with a created
/// user account high; 93.8%, 88.3%, 23, 7 with a file's download link read at medium; 93.9%, 88.3%,
/// 23, 7 with a ping naming no host a read; 93.9%, 88.4%, 23, 7 with a leading list the resource of
/// a closing write verb; 93.9%, 88.4%, 23, 7 with an escalation policy no permission; 94.0%, 88.4%,
/// 23, 7 with block a write verb and unblock a toggle; 94.0%, 88.5%, 23, 7 with a toggle over
/// listed ids medium; 94.0%, 88.5%, 23, 7 with a leading toggle verb the resource of a closing
/// change.
/// 94.1%, 88.5%, 22, 7 with a post named for its HTTP method read by its description's verb.
/// 94.1%, 88.5%, 21, 7 with detect a read verb.
/// 94.1%, 88.6%, 20, 7 with a removal returning a backup id medium.
/// 94.1%, 88.6%, 19, 6 with a read offering a secret kind as its object a credential read.
/// 94.2%, 88.7%, 17, 6 with a secure password drawn from options alone a read.
/// 94.2%, 88.7%, 16, 6 with a listing of vaults themselves a read.
/// 94.3%, 88.7%, 15, 6 with blocked rather than shown a masking phrase. With the tenth
/// folded in: 94.4%, 87.7%, 17, 7 before round 12.
/// Round 12: 94.4%, 87.7%, 16, 6 with a read of any configuration path a credential; 94.4%, 87.8%,
/// 15, 6 with a call of any server function by name critical; 94.4%, 88.4%, 15, 6 with a generic
/// record API over a caller-chosen type medium, high and critical; 94.4%, 88.5%, 15, 6 with NAT
/// rules, a firewall address list and edits named for a rule network guards; 94.4%, 88.7%, 15, 6
/// with a mapping, an entry, a key result and a correspondent cheap to recreate; 94.5%, 88.7%, 15,
/// 6 with a deletion glossed as an archive a write; 94.5%, 88.9%, 15, 6 with a patch of declared
/// fields no specification and a list replaced wholesale a warning; 94.6%, 89.0%, 15, 6 with any
/// bulk operation over listed items on a tool marked destructive destructive high; 94.6%, 89.0%,
/// 15, 6 with a resolver's host override or static entry a DNS record edit; 94.6%, 89.1%, 15, 6
/// with a kind from an enum no listing of any kind; 94.6%, 89.2%, 15, 6 with a recurring invoice
/// unattended billing; 94.6%, 89.2%, 15, 6 with a timer started a write and stopped at low; 94.6%,
/// 89.2%, 15, 6 with a defined report run a read; 94.6%, 89.3%, 15, 6 with a correspondent and a
/// report empty additions; 94.7%, 89.3%, 15, 6 with an upload of inline content a write; 94.7%,
/// 89.4%, 15, 6 with an authorization code exchanged a critical credential; 94.8%, 89.4%, 15, 6
/// with a stored object converted to another kind a write; 94.8%, 89.4%, 15, 6 with every staged
/// change applied at once high; 94.8%, 89.5%, 15, 6 with a change that will cut the connection a
/// warning. With the eleventh folded in: 94.3%, 88.1%, 21, 7 before round 13; after round 13's
/// rules and its one-step move of an unrefined starting risk: 94.6%, 88.9%, 14, 6. With the
/// twelfth folded in: 94.2%, 88.5%, 15, 7 before round 14; 94.3%, 88.5%, 14, 6 after it. With
/// the thirteenth: 94.2%, 87.7%, 23, 7. With the fourteenth: 94.0%, 87.0%, 25, 8 (the rules
/// alone 87.1%, 23, 8: the first fold after which the step costs a tool here); after round 16:
/// 94.1%, 87.3%, 24, 7 (the rules alone 87.4%, 22, 7).
const SHIPPED_FLOORS: Floors = (93.9, 87.1, 24, 7);

fn assert_loso_floors(measured: &Measured, (category, risk, off_by_two, called_low): Floors) {
    let card = &measured.card;
    assert!(
        card.category_percent() >= category,
        "category {:.1}%",
        card.category_percent()
    );
    assert!(
        card.risk_percent() >= risk,
        "risk {:.1}%",
        card.risk_percent()
    );
    assert!(
        card.off_by_two().len() <= off_by_two,
        "{} two steps off",
        card.off_by_two().len()
    );
    assert!(
        card.dangerous_called_low().len() <= called_low,
        "{} high/critical called low",
        card.dangerous_called_low().len()
    );
}

#[test]
fn train_leave_one_server_out_figures_stay_above_their_floors() {
    let folds = leave_one_server_out();
    assert_eq!(
        folds.len(),
        crate::DEVELOPMENT_TOOLS,
        "precondition: every tool predicted once"
    );
    let alone = measure(&folds, model_alone);
    let rules = measure(&folds, |f| {
        Blend::RULES_ONLY.apply(f.rules.clone(), &f.prediction)
    });
    let shipped = measure(&folds, |f| {
        Blend::SHIPPED.apply(f.rules.clone(), &f.prediction)
    });
    println!("{}", alone.line("model alone (LOSO)"));
    println!("{}", rules.line("rules alone (tuned on all, optimistic)"));
    println!("{}", shipped.line("shipped blend (LOSO)"));
    for part in Half::Development.parts() {
        let servers = set::part_servers(part);
        let of_part: Vec<&Fold> = folds
            .iter()
            .filter(|f| servers.contains(&format!("{}.json", f.labelled.server)))
            .collect();
        let part_alone = measure_refs(&of_part, model_alone);
        println!(
            "  model alone on {:<12} {}",
            part.key,
            part_alone.card.headline()
        );
    }
    assert_loso_floors(&alone, MODEL_ALONE_FLOORS);
    assert_loso_floors(&shipped, SHIPPED_FLOORS);
    if std::env::var_os("MCPGATE_TRAIN_GRID").is_some() {
        grid();
    }
    let fresh = fresh_folds(&folds);
    assert_eq!(
        fresh.len(),
        392 + 342 + 289 + 236 + 283 + 294 + 296 + 253 + 245 + 242 + 247,
        "precondition: eleven sets as first measured"
    );
    let as_measured = measure(&fresh, |f| {
        Blend::RULES_ONLY.apply(f.rules.clone(), &f.prediction)
    });
    let fresh_shipped = measure(&fresh, |f| {
        Blend::SHIPPED.apply(f.rules.clone(), &f.prediction)
    });
    println!(
        "{}",
        measure(&fresh, model_alone).line("fresh: model alone (LOSO)")
    );
    println!("{}", as_measured.line("fresh: rules as first measured"));
    println!("{}", fresh_shipped.line("fresh: shipped blend"));
    let (a, b) = (&as_measured.card, &fresh_shipped.card);
    assert!(b.category_percent() >= a.category_percent() && b.risk_percent() >= a.risk_percent());
    assert!(b.off_by_two().len() <= a.off_by_two().len());
    assert!(b.dangerous_called_low().len() <= a.dangerous_called_low().len());
    // Fewer wrong risks go unmarked: the model's doubt sends more of them to review, and
    // since round 13 its one-step move of an unrefined starting risk leaves fewer wrong.
    let unmarked = |m: &Measured| m.wrong_risks - m.wrong_risks_low;
    assert!(
        unmarked(&fresh_shipped) < unmarked(&as_measured),
        "fewer of the fresh wrong risks go unmarked with the model than without"
    );
    if std::env::var_os("MCPGATE_TRAIN_GRID").is_some() {
        fresh_grid(&fresh);
    }
    if std::env::var_os("MCPGATE_TRAIN_BASE").is_some() {
        base_grid(&folds, &fresh);
    }
    if let Some(path) = std::env::var_os("MCPGATE_TRAIN_DUMP") {
        dump(&fresh, &path);
    }
    if let Some(path) = std::env::var_os("MCPGATE_TRAIN_DUMP_FEATURES") {
        let mut out = String::new();
        for f in &folds {
            let e = f.labelled.expected;
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                f.labelled.server,
                f.labelled.tool.name(),
                e.category,
                e.risk,
                f.rules.classification.category,
                f.rules.classification.risk,
                mcpgate_catalog::model::features(&f.labelled.tool).join("|")
            ));
        }
        std::fs::write(path, out).expect("the features are written");
    }
    if std::env::var_os("MCPGATE_TRAIN_REPORT").is_some() {
        println!(
            "{}",
            shipped.card.report("shipped blend, leave one server out")
        );
    }
}

/// Every combination tried, printed (`MCPGATE_TRAIN_GRID=1`): the choice of
/// [`Blend::SHIPPED`] and of the temperature is read from this.
fn grid() {
    let off = f64::INFINITY;
    for temperature in [1.0, 4.0, 8.0, 16.0] {
        let folds = leave_one_server_out_at(temperature);
        println!(
            "{}",
            measure(&folds, model_alone).line(&format!("t{temperature} model alone"))
        );
        for category_at in [0.7, 0.9, off] {
            for raise_at in [0.8, 0.9, 0.97, off] {
                for lower_at in [0.9, 0.97, off] {
                    for doubt_below in [0.0, 0.02, 0.1] {
                        let blend = Blend {
                            category_at,
                            raise_at,
                            lower_at,
                            doubt_below,
                            base_risk_at: off,
                        };
                        let m = measure(&folds, |f| blend.apply(f.rules.clone(), &f.prediction));
                        println!(
                            "{}",
                            m.line(&format!("t{temperature} c{category_at} r{raise_at} l{lower_at} d{doubt_below}"))
                        );
                    }
                }
            }
        }
    }
}

/// The former held-out sets 4 to 6 with the rules' verdicts as they were when each was
/// measured once, before any tuning on it (`eval/rules-at-measurement/*.tsv`: `server, tool,
/// category, risk, confidence` a line, from the catalogue crate of the commit each set's
/// measurement names), beside the LOSO prediction: the one view where neither the rules nor
/// the model had seen the tools. The blend is chosen here.
fn fresh_folds(folds: &[Fold]) -> Vec<Fold> {
    let dir = set::eval_dir().join("rules-at-measurement");
    let mut fresh: Vec<Fold> = Vec::new();
    for file in [
        "held_out_4.tsv",
        "held_out_5.tsv",
        "held_out_6.tsv",
        "held_out_7.tsv",
        "held_out_8.tsv",
        "held_out_9.tsv",
        "held_out_10.tsv",
        "held_out_11.tsv",
        "held_out_12.tsv",
        "held_out_13.tsv",
        "held_out_14.tsv",
    ] {
        let tsv = std::fs::read_to_string(dir.join(file)).expect("rules-at-measurement file");
        for line in tsv.lines() {
            fresh.push(fresh_fold(folds, line));
        }
    }
    fresh
}

fn fresh_fold(folds: &[Fold], line: &str) -> Fold {
    let cells: Vec<&str> = line.split('\t').collect();
    let fold = folds
        .iter()
        .find(|f| f.labelled.server == cells[0] && f.labelled.tool.name() == cells[1])
        .unwrap_or_else(|| panic!("{line}: not a development tool"));
    let mut rules = fold.rules.clone();
    rules.classification = Classification {
        category: cells[2].parse().expect("a category"),
        risk: cells[3].parse().expect("a risk"),
    };
    rules.confidence.level = cells[4].parse().expect("a level");
    rules.confidence.doubts = match rules.confidence.level {
        ConfidenceLevel::High => 0,
        ConfidenceLevel::Medium => 1,
        ConfidenceLevel::Low => 2,
    };
    Fold {
        labelled: LabelledTool {
            server: fold.labelled.server.clone(),
            tool: fold.labelled.tool.clone(),
            expected: fold.labelled.expected,
            why: String::new(),
        },
        rules,
        prediction: fold.prediction.clone(),
    }
}

/// The fresh view, one tool a line (`MCPGATE_TRAIN_DUMP=path`): server, tool, the labels,
/// the rules' verdict and confidence as first measured, whether their risk was left at its
/// category's start, and the LOSO model's six category and four risk probabilities.
fn dump(fresh: &[Fold], path: &std::ffi::OsStr) {
    let mut out = String::new();
    for f in fresh {
        let e = f.labelled.expected;
        let r = &f.rules;
        let mut cells = vec![
            f.labelled.server.clone(),
            f.labelled.tool.name().to_owned(),
            e.category.to_string(),
            e.risk.to_string(),
            r.classification.category.to_string(),
            r.classification.risk.to_string(),
            r.confidence.level.to_string(),
            u8::from(mcpgate_catalog::risk_from_base(&r.evidence)).to_string(),
        ];
        for p in f
            .prediction
            .category_probabilities
            .iter()
            .chain(&f.prediction.risk_probabilities)
        {
            cells.push(format!("{p:.4}"));
        }
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    std::fs::write(path, out).expect("the dump is written");
}

/// Blends on the fresh view (`MCPGATE_TRAIN_GRID=1`).
fn fresh_grid(fresh: &[Fold]) {
    let off = f64::INFINITY;
    for category_at in [0.4, 0.5, 0.6, 0.7, off] {
        for raise_at in [0.5, 0.6, 0.7, 0.8, 0.9, off] {
            for lower_at in [0.6, 0.7, 0.8, 0.9, off] {
                for doubt_below in [0.0, 0.05] {
                    let blend = Blend {
                        category_at,
                        raise_at,
                        lower_at,
                        doubt_below,
                        base_risk_at: off,
                    };
                    let m = measure(fresh, |f| blend.apply(f.rules.clone(), &f.prediction));
                    println!(
                        "{}",
                        m.line(&format!(
                            "fresh c{category_at} r{raise_at} l{lower_at} d{doubt_below}"
                        ))
                    );
                }
            }
        }
    }
}

/// The model's likeliest risk in place of the rules' starting point (`base_risk_at`), on both
/// views (`MCPGATE_TRAIN_BASE=1`, round 13).
fn base_grid(folds: &[Fold], fresh: &[Fold]) {
    for base_risk_at in [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, f64::INFINITY] {
        let blend = Blend {
            base_risk_at,
            ..Blend::SHIPPED
        };
        let loso = measure(folds, |f| blend.apply(f.rules.clone(), &f.prediction));
        println!("{}", loso.line(&format!("loso base{base_risk_at}")));
        let m = measure(fresh, |f| blend.apply(f.rules.clone(), &f.prediction));
        println!("{}", m.line(&format!("fresh base{base_risk_at}")));
    }
}
