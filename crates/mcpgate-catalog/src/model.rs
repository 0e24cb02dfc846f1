//! A small model beside the rules: multinomial naive Bayes over binary features of a tool
//! (`model/features.rs`), with two heads, category (6) and risk (4).
//!
//! The weights are counts: for each feature, in how many labelled tools of each category
//! and each risk it appeared (`model/weights.json`, written by the eval's trainer from the
//! development set and checked there against a fresh training). They are read once into
//! log-probabilities; a prediction sums one row per feature the tool has. No I/O, no
//! download: the file is compiled in. `model/blend.rs` decides what the prediction may change.

mod blend;
mod features;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::LazyLock;

use mcpgate_policy::{Category, Classification, Risk};
use serde::{Deserialize, Serialize};

use crate::tool::ToolDefinition;

pub use blend::Blend;
pub use features::features;

/// Additive smoothing of the feature counts.
const ALPHA: f64 = 0.5;

/// Naive Bayes adds up evidence as if features were independent, so its raw
/// probabilities are near 0 or 1; the log-likelihoods are divided by this before they are
/// turned into probabilities, so a threshold on them means something (chosen by LOSO).
pub const TEMPERATURE: f64 = 8.0;

/// Features seen in fewer tools than this are not kept in the weights file.
pub const MIN_TOOLS: u32 = 2;

/// Columns of a count row: the six categories, then the four risks.
const COLUMNS: usize = 10;

/// What training produces and the weights file holds: labelled tools per class, and per
/// feature the tools of each class that had it (six category columns, then four risk ones).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Tools per category, in `Category::ALL` order.
    pub category: [u32; 6],
    /// Tools per risk, in `Risk::ALL` order.
    pub risk: [u32; 4],
    /// Per feature: tools with it per category, then per risk.
    pub features: BTreeMap<String, [u32; COLUMNS]>,
}

impl Counts {
    /// Counts one labelled tool.
    pub fn add(&mut self, tool: &ToolDefinition, label: Classification) {
        let (c, r) = (label.category.index(), label.risk.index());
        self.category[c] += 1;
        self.risk[r] += 1;
        for feature in features(tool) {
            let row = self.features.entry(feature).or_insert([0; COLUMNS]);
            row[c] += 1;
            row[6 + r] += 1;
        }
    }

    /// These counts less `other`'s (a subset of them): training without some tools.
    pub fn without(&self, other: &Counts) -> Counts {
        let mut out = self.clone();
        for i in 0..6 {
            out.category[i] -= other.category[i];
        }
        for i in 0..4 {
            out.risk[i] -= other.risk[i];
        }
        for (feature, row) in &other.features {
            let mine = out.features.get_mut(feature).expect("a subset");
            for i in 0..COLUMNS {
                mine[i] -= row[i];
            }
        }
        out.features
            .retain(|_, row| row[..6].iter().any(|n| *n > 0));
        out
    }

    /// Only the features seen in at least [`MIN_TOOLS`] tools.
    pub fn pruned(mut self) -> Counts {
        self.features
            .retain(|_, row| row[..6].iter().sum::<u32>() >= MIN_TOOLS);
        self
    }

    /// The weights file: one feature a line, sorted, so a retraining diffs readably.
    pub fn to_json(&self) -> String {
        let list = |values: &[u32]| {
            values
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut out = format!(
            "{{\"category\":[{}],\"risk\":[{}],\"features\":{{",
            list(&self.category),
            list(&self.risk)
        );
        for (i, (feature, row)) in self.features.iter().enumerate() {
            let key = serde_json::to_string(feature).expect("a string");
            let comma = if i == 0 { "" } else { "," };
            let _ = write!(out, "{comma}\n{key}:[{}]", list(row));
        }
        out.push_str("\n}}\n");
        out
    }
}

/// The model read from counts: log-probabilities ready to sum.
#[derive(Debug, Clone)]
pub struct Model {
    temperature: f64,
    prior: [f64; COLUMNS],
    table: HashMap<String, [f64; COLUMNS]>,
}

/// What the model says of one tool.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// The likeliest category.
    pub category: Category,
    /// The probability of each category, in `Category::ALL` order.
    pub category_probabilities: [f64; 6],
    /// The likeliest risk.
    pub risk: Risk,
    /// The probability of each risk, in `Risk::ALL` order.
    pub risk_probabilities: [f64; 4],
    /// The features that most favoured the predicted risk over the others, strongest first.
    pub top_features: Vec<String>,
}

impl Prediction {
    /// The probability of a category.
    pub fn category_probability(&self, category: Category) -> f64 {
        self.category_probabilities[category.index()]
    }

    /// The probability of a risk.
    pub fn risk_probability(&self, risk: Risk) -> f64 {
        self.risk_probabilities[risk.index()]
    }

    /// The probability that the risk is above `risk`, and the likeliest risk above it.
    pub fn above(&self, risk: Risk) -> (f64, Risk) {
        self.beyond(risk, |r| r > risk)
    }

    /// The probability that the risk is below `risk`, and the likeliest risk below it.
    pub fn below(&self, risk: Risk) -> (f64, Risk) {
        self.beyond(risk, |r| r < risk)
    }

    fn beyond(&self, risk: Risk, side: impl Fn(Risk) -> bool) -> (f64, Risk) {
        let mut total = 0.0;
        let mut likeliest = (f64::NEG_INFINITY, risk);
        for (r, p) in Risk::ALL.into_iter().zip(self.risk_probabilities) {
            if side(r) {
                total += p;
                if p > likeliest.0 {
                    likeliest = (p, r);
                }
            }
        }
        (total, likeliest.1)
    }
}

/// The weights compiled into the crate.
const WEIGHTS: &str = include_str!("model/weights.json");

static SHIPPED: LazyLock<Model> = LazyLock::new(|| {
    let counts: Counts = serde_json::from_str(WEIGHTS).expect("model/weights.json parses");
    Model::from_counts(&counts)
});

fn softmax(scores: &[f64]) -> Vec<f64> {
    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, value) in values.iter().enumerate() {
        if *value > values[best] {
            best = i;
        }
    }
    best
}

impl Model {
    /// The model shipped in the crate, parsed on first use.
    pub fn shipped() -> &'static Model {
        &SHIPPED
    }

    /// Reads counts into log-probabilities (multinomial, smoothed by [`ALPHA`]).
    pub fn from_counts(counts: &Counts) -> Model {
        let vocabulary = counts.features.len() as f64;
        let mut totals = [0f64; COLUMNS];
        for row in counts.features.values() {
            for i in 0..COLUMNS {
                totals[i] += f64::from(row[i]);
            }
        }
        let tools = f64::from(counts.category.iter().sum::<u32>()).max(1.0);
        let mut prior = [0f64; COLUMNS];
        let (categories, risks) = prior.split_at_mut(6);
        for (log, n) in categories.iter_mut().zip(counts.category) {
            *log = ((f64::from(n) + ALPHA) / (tools + 6.0 * ALPHA)).ln();
        }
        for (log, n) in risks.iter_mut().zip(counts.risk) {
            *log = ((f64::from(n) + ALPHA) / (tools + 4.0 * ALPHA)).ln();
        }
        let table = counts
            .features
            .iter()
            .map(|(feature, row)| {
                let mut logs = [0f64; COLUMNS];
                for i in 0..COLUMNS {
                    logs[i] = ((f64::from(row[i]) + ALPHA) / (totals[i] + ALPHA * vocabulary)).ln();
                }
                (feature.clone(), logs)
            })
            .collect();
        Model {
            temperature: TEMPERATURE,
            prior,
            table,
        }
    }

    /// The same model with another [`TEMPERATURE`] (for the evaluation's measurements).
    pub fn with_temperature(mut self, temperature: f64) -> Model {
        self.temperature = temperature;
        self
    }

    /// Predicts a tool's category and risk.
    pub fn predict(&self, tool: &ToolDefinition) -> Prediction {
        let mut scores = [0f64; COLUMNS];
        let rows: Vec<(String, &[f64; COLUMNS])> = features(tool)
            .into_iter()
            .filter_map(|f| self.table.get(&f).map(|row| (f, row)))
            .collect();
        for (_, row) in &rows {
            for i in 0..COLUMNS {
                scores[i] += row[i];
            }
        }
        for (score, prior) in scores.iter_mut().zip(self.prior) {
            *score = (prior + *score) / self.temperature;
        }
        let categories = softmax(&scores[..6]);
        let risks = softmax(&scores[6..]);
        let (c, r) = (argmax(&categories), argmax(&risks));
        let mut favour: Vec<(f64, &str)> = rows
            .iter()
            .map(|(feature, row)| {
                let others = (6..COLUMNS)
                    .filter(|i| *i != 6 + r)
                    .map(|i| row[i])
                    .fold(f64::NEG_INFINITY, f64::max);
                (row[6 + r] - others, feature.as_str())
            })
            .filter(|(lead, _)| *lead > 0.0)
            .collect();
        favour.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        Prediction {
            category: Category::ALL[c],
            category_probabilities: [
                categories[0],
                categories[1],
                categories[2],
                categories[3],
                categories[4],
                categories[5],
            ],
            risk: Risk::ALL[r],
            risk_probabilities: [risks[0], risks[1], risks[2], risks[3]],
            top_features: favour
                .iter()
                .take(3)
                .map(|(_, f)| (*f).to_owned())
                .collect(),
        }
    }
}
