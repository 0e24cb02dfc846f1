//! Scoring a classifier (or a labeller) against reference labels: accuracy,
//! Cohen's κ, confusion matrices, and the mistakes that matter most.

use std::fmt::Write as _;

use mcpgate_policy::{Category, Classification, Risk};

/// One compared pair: the reference label and the other reading.
#[derive(Clone)]
pub struct Pair {
    pub server: String,
    pub name: String,
    pub expected: Classification,
    pub actual: Classification,
    pub why: String,
}

/// The comparison of two readings over a set of tools.
pub struct Scorecard {
    pub pairs: Vec<Pair>,
}

/// Cohen's κ from a square confusion matrix (rows: reference, columns: other).
pub fn kappa<const N: usize>(matrix: &[[usize; N]; N]) -> f64 {
    let total: usize = matrix.iter().flatten().sum();
    if total == 0 {
        return 1.0;
    }
    let n = total as f64;
    let observed = (0..N).map(|i| matrix[i][i]).sum::<usize>() as f64 / n;
    let expected: f64 = (0..N)
        .map(|i| {
            let row: usize = matrix[i].iter().sum();
            let column: usize = matrix.iter().map(|r| r[i]).sum();
            row as f64 * column as f64
        })
        .sum::<f64>()
        / (n * n);
    if (1.0 - expected).abs() < f64::EPSILON {
        return 1.0;
    }
    (observed - expected) / (1.0 - expected)
}

impl Scorecard {
    pub fn total(&self) -> usize {
        self.pairs.len()
    }

    pub fn category_matrix(&self) -> [[usize; 6]; 6] {
        let mut matrix = [[0; 6]; 6];
        for pair in &self.pairs {
            matrix[pair.expected.category.index()][pair.actual.category.index()] += 1;
        }
        matrix
    }

    pub fn risk_matrix(&self) -> [[usize; 4]; 4] {
        let mut matrix = [[0; 4]; 4];
        for pair in &self.pairs {
            matrix[pair.expected.risk.index()][pair.actual.risk.index()] += 1;
        }
        matrix
    }

    fn percent(&self, matches: usize) -> f64 {
        if self.pairs.is_empty() {
            return 100.0;
        }
        matches as f64 * 100.0 / self.pairs.len() as f64
    }

    pub fn category_percent(&self) -> f64 {
        self.percent(
            self.pairs
                .iter()
                .filter(|p| p.expected.category == p.actual.category)
                .count(),
        )
    }

    pub fn risk_percent(&self) -> f64 {
        self.percent(
            self.pairs
                .iter()
                .filter(|p| p.expected.risk == p.actual.risk)
                .count(),
        )
    }

    pub fn category_kappa(&self) -> f64 {
        kappa(&self.category_matrix())
    }

    pub fn risk_kappa(&self) -> f64 {
        kappa(&self.risk_matrix())
    }

    /// Tools whose risk is two or more steps from the reference.
    pub fn off_by_two(&self) -> Vec<&Pair> {
        self.pairs
            .iter()
            .filter(|p| p.expected.risk.index().abs_diff(p.actual.risk.index()) >= 2)
            .collect()
    }

    /// Tools the reference calls high or critical that the other reading calls low.
    pub fn dangerous_called_low(&self) -> Vec<&Pair> {
        self.pairs
            .iter()
            .filter(|p| p.expected.risk >= Risk::High && p.actual.risk == Risk::Low)
            .collect()
    }

    pub fn misses(&self) -> Vec<&Pair> {
        self.pairs
            .iter()
            .filter(|p| p.expected != p.actual)
            .collect()
    }

    /// Every pair as `server, tool, label category, label risk, category, risk`, one a line,
    /// tab-separated, for `eval/compare_verdicts.py`.
    pub fn verdicts_tsv(&self) -> String {
        let mut out = String::new();
        for p in &self.pairs {
            let _ = writeln!(
                out,
                "{}\t{}\t{}\t{}\t{}\t{}",
                p.server,
                p.name,
                p.expected.category,
                p.expected.risk,
                p.actual.category,
                p.actual.risk
            );
        }
        out
    }

    /// One line of headline figures.
    pub fn headline(&self) -> String {
        format!(
            "{} tools: category {:.1}% (κ {:.3}), risk {:.1}% (κ {:.3}), {} risk 2+ steps off, {} high/critical called low",
            self.total(),
            self.category_percent(),
            self.category_kappa(),
            self.risk_percent(),
            self.risk_kappa(),
            self.off_by_two().len(),
            self.dangerous_called_low().len()
        )
    }

    /// The headline, per-server figures, both confusion matrices and every miss.
    pub fn report(&self, title: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "== {title}: {}", self.headline());
        let mut servers: Vec<&str> = self.pairs.iter().map(|p| p.server.as_str()).collect();
        servers.dedup();
        for server in servers {
            let card = Scorecard {
                pairs: self
                    .pairs
                    .iter()
                    .filter(|p| p.server == server)
                    .cloned()
                    .collect(),
            };
            let _ = writeln!(
                out,
                "  {server:<24} {:>4} tools  category {:>5.1}%  risk {:>5.1}%",
                card.total(),
                card.category_percent(),
                card.risk_percent()
            );
        }
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        write_matrix(
            &mut out,
            "category (rows: label, columns: classifier)",
            &names,
            &self.category_matrix(),
        );
        let names: Vec<&str> = Risk::ALL.iter().map(|r| r.as_str()).collect();
        write_matrix(
            &mut out,
            "risk (rows: label, columns: classifier)",
            &names,
            &self.risk_matrix(),
        );
        let _ = writeln!(out, "  misses ({}):", self.misses().len());
        for p in self.misses() {
            let steps = p.expected.risk.index().abs_diff(p.actual.risk.index());
            let flag = if steps >= 2 { "  [2+ steps]" } else { "" };
            let _ = writeln!(
                out,
                "    {}/{}: label {}/{}, classifier {}/{}{flag}{}",
                p.server,
                p.name,
                p.expected.category,
                p.expected.risk,
                p.actual.category,
                p.actual.risk,
                if p.why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", p.why)
                }
            );
        }
        out
    }
}

fn write_matrix<const N: usize>(
    out: &mut String,
    title: &str,
    names: &[&str],
    matrix: &[[usize; N]; N],
) {
    let _ = writeln!(out, "  {title}:");
    let _ = write!(out, "    {:>12}", "");
    for name in names {
        let _ = write!(out, " {:>11}", name);
    }
    let _ = writeln!(out);
    for (i, row) in matrix.iter().enumerate() {
        let _ = write!(out, "    {:>12}", names[i]);
        for cell in row {
            let _ = write!(out, " {cell:>11}");
        }
        let _ = writeln!(out);
    }
}
