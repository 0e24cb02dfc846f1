//! How well the classifier agrees with hand labels.

use mcpgate_policy::{Classification, Risk};

use crate::catalogue::CatalogueEntry;
use crate::classify::classify;

/// Agreement of the classifier with the labelled tools of one or more catalogues.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Agreement {
    /// How many tools carried a label.
    pub labelled: usize,
    /// How many of those got the labelled category.
    pub category_matches: usize,
    /// How many of those got the labelled risk.
    pub risk_matches: usize,
    /// Every labelled tool where category or risk differ, in order.
    pub disagreements: Vec<Disagreement>,
}

/// One tool on which the classifier and the label differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The tool's name.
    pub name: String,
    /// What the label says.
    pub expected: Classification,
    /// What the classifier says.
    pub actual: Classification,
    /// The labeller's reason.
    pub why: String,
}

impl Agreement {
    /// Classifies every labelled entry and compares. Unlabelled entries are skipped.
    pub fn measure<'a>(entries: impl IntoIterator<Item = &'a CatalogueEntry>) -> Self {
        let mut agreement = Agreement::default();
        for entry in entries {
            let Some(label) = &entry.label else { continue };
            let actual = classify(&entry.tool).classification;
            let expected = label.classification;
            agreement.labelled += 1;
            let category_ok = actual.category == expected.category;
            let risk_ok = actual.risk == expected.risk;
            agreement.category_matches += usize::from(category_ok);
            agreement.risk_matches += usize::from(risk_ok);
            if !(category_ok && risk_ok) {
                agreement.disagreements.push(Disagreement {
                    name: entry.tool.name().to_owned(),
                    expected,
                    actual,
                    why: label.why.clone(),
                });
            }
        }
        agreement
    }

    /// Share of labelled tools with the labelled category, in percent (100 when none).
    pub fn category_percent(&self) -> f64 {
        percent(self.category_matches, self.labelled)
    }

    /// Share of labelled tools with the labelled risk, in percent (100 when none).
    pub fn risk_percent(&self) -> f64 {
        percent(self.risk_matches, self.labelled)
    }

    /// Tools labelled `high` or `critical` that the classifier rated `low`:
    /// the mistakes that would let a dangerous tool through unnoticed.
    pub fn dangerous_rated_low(&self) -> Vec<&Disagreement> {
        self.disagreements
            .iter()
            .filter(|d| d.expected.risk >= Risk::High && d.actual.risk == Risk::Low)
            .collect()
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        return 100.0;
    }
    // Counts stay far below 2^52, so the conversion is exact.
    part as f64 * 100.0 / whole as f64
}
