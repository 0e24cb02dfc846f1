//! The output of `mcpgate classify FILE.json`: a table, or JSON lines.

use std::fmt::Write as _;

use crate::agreement::Agreement;
use crate::catalogue::Catalogue;
use crate::classify::classify;
use crate::error::CatalogError;
use crate::evidence::{Assessment, Effect, EvidenceKind};

/// Classifies the catalogue in `text` and renders the result.
///
/// With `json = false`: an aligned table (name, category, risk, confidence,
/// top evidence), followed, when tools carry `label: {category, risk, why}`, by
/// the agreement with the labels and the list of disagreements. With
/// `json = true`: one JSON object per tool and line,
/// `{"name", "category", "risk", "evidence": [...], "confidence": {...}}`.
pub fn report(text: &str, json: bool) -> Result<String, CatalogError> {
    let catalogue = Catalogue::parse(text)?;
    let assessments: Vec<Assessment> = catalogue
        .entries
        .iter()
        .map(|e| classify(&e.tool))
        .collect();
    if json {
        return Ok(json_lines(&assessments));
    }
    let mut out = table(&assessments);
    let agreement = Agreement::measure(&catalogue.entries);
    if agreement.labelled > 0 {
        out.push('\n');
        out.push_str(&agreement_section(&agreement));
    }
    Ok(out)
}

fn json_lines(assessments: &[Assessment]) -> String {
    let mut out = String::new();
    for assessment in assessments {
        // Serialising plain strings and enums cannot fail.
        let line = serde_json::to_string(assessment).unwrap_or_default();
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The deciding category signal, and the risk step when a rule (not the base) set it.
fn top_evidence(assessment: &Assessment) -> String {
    let category = assessment
        .evidence
        .iter()
        .find(|e| matches!(e.effect, Effect::Category(_)))
        .map(|e| e.message.clone());
    let risk = assessment
        .evidence
        .iter()
        .rev()
        .find(|e| matches!(e.effect, Effect::Risk(_)) && e.kind != EvidenceKind::Default)
        .map(|e| e.message.clone());
    category
        .into_iter()
        .chain(risk)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `high`, `medium`, or `low (review)`.
fn confidence_cell(assessment: &Assessment) -> String {
    let level = assessment.confidence.level.as_str();
    if assessment.confidence.needs_review() {
        format!("{level} (review)")
    } else {
        level.to_owned()
    }
}

fn table(assessments: &[Assessment]) -> String {
    let header = ["NAME", "CATEGORY", "RISK", "CONFIDENCE", "EVIDENCE"];
    let rows: Vec<[String; 5]> = assessments
        .iter()
        .map(|a| {
            [
                a.name.clone(),
                a.classification.category.to_string(),
                a.classification.risk.to_string(),
                confidence_cell(a),
                top_evidence(a),
            ]
        })
        .collect();
    let width = |column: usize| {
        rows.iter()
            .map(|row| row[column].chars().count())
            .chain([header[column].len()])
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2), width(3)];
    let mut out = String::new();
    let mut line = |cells: [&str; 5]| {
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3]
        );
    };
    line(header);
    for row in &rows {
        line([&row[0], &row[1], &row[2], &row[3], &row[4]]);
    }
    let _ = writeln!(out, "{} tools", rows.len());
    out
}

fn agreement_section(agreement: &Agreement) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Agreement with labels ({} labelled tools):",
        agreement.labelled
    );
    let _ = writeln!(
        out,
        "  category  {}/{}  {:.1}%",
        agreement.category_matches,
        agreement.labelled,
        agreement.category_percent()
    );
    let _ = writeln!(
        out,
        "  risk      {}/{}  {:.1}%",
        agreement.risk_matches,
        agreement.labelled,
        agreement.risk_percent()
    );
    if agreement.disagreements.is_empty() {
        let _ = writeln!(out, "No disagreements.");
        return out;
    }
    let _ = writeln!(out, "Disagreements ({}):", agreement.disagreements.len());
    for d in &agreement.disagreements {
        let _ = writeln!(
            out,
            "  {}: labelled {}/{}, classified {}/{} (label: {})",
            d.name, d.expected.category, d.expected.risk, d.actual.category, d.actual.risk, d.why
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::report;

    const LABELLED: &str = r#"{"server": "demo", "tools": [
        {"name": "list_pods", "description": "List pods",
         "label": {"category": "read", "risk": "low", "why": "lists"}},
        {"name": "delete_everything", "description": "Delete a namespace and all resources in it",
         "label": {"category": "write", "risk": "low", "why": "deliberately wrong"}}
    ]}"#;

    #[test]
    fn table_is_aligned_with_one_row_per_tool() {
        let out = report(LABELLED, false).expect("report");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("NAME"), "{out}");
        let risk_column = lines[0].find("RISK").expect("risk header");
        assert_eq!(&lines[1][risk_column..risk_column + 3], "low", "{out}");
        assert_eq!(&lines[2][risk_column..risk_column + 8], "critical", "{out}");
        assert!(lines[2].contains("name verb `delete`"), "{out}");
        assert!(out.contains("2 tools"), "{out}");
    }

    #[test]
    fn the_table_marks_low_confidence_verdicts_for_review() {
        let out = report(r#"{"tools": [{"name": "frobnicate"}]}"#, false).expect("report");
        let lines: Vec<&str> = out.lines().collect();
        let column = lines[0].find("CONFIDENCE").expect("confidence header");
        assert_eq!(&lines[1][column..column + 12], "low (review)", "{out}");
    }

    #[test]
    fn labels_give_agreement_and_disagreements() {
        let out = report(LABELLED, false).expect("report");
        assert!(out.contains("category  1/2  50.0%"), "{out}");
        assert!(out.contains("risk      1/2  50.0%"), "{out}");
        assert!(
            out.contains("delete_everything: labelled write/low, classified destructive/critical"),
            "{out}"
        );
    }

    #[test]
    fn unlabelled_catalogues_have_no_agreement_section() {
        let out = report(r#"{"tools": [{"name": "list_pods"}]}"#, false).expect("report");
        assert!(!out.contains("Agreement"), "{out}");
    }

    #[test]
    fn json_mode_prints_one_object_per_tool_and_line() {
        let rpc = r#"{"jsonrpc": "2.0", "id": 1, "result": {"tools": [
            {"name": "list_pods"}, {"name": "run_pod", "inputSchema": {"properties": {"image": {}}}}]}}"#;
        let out = report(rpc, true).expect("report");
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["name"], "run_pod");
        assert_eq!(lines[1]["category"], "execute");
        assert_eq!(lines[1]["risk"], "high");
        assert_eq!(lines[1]["evidence"][0]["kind"], "name_verb");
        assert_eq!(
            lines[1]["evidence"][0]["effect"],
            serde_json::json!({"category": "execute"})
        );
    }

    #[test]
    fn bad_input_gives_clear_errors() {
        let error = |text: &str| report(text, false).unwrap_err().to_string();
        assert!(error("not json").starts_with("catalogue is not valid JSON"));
        assert!(error(r#"{"server": "x"}"#).contains("no `tools` array"));
        assert!(error(r#"{"tools": [{"description": "d"}]}"#).contains("tool #1 has no name"));
        assert!(error(r#"{"tools": [{"name": "a"}, 3]}"#).contains("tool #2 is not a JSON object"));
        let rpc_error = r#"{"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}}"#;
        assert!(error(rpc_error).contains("no such method"));
        let bad_label =
            r#"{"tools": [{"name": "a", "label": {"category": "reading", "risk": "low"}}]}"#;
        assert!(
            error(bad_label).contains("tool `a` has an invalid label: unknown category `reading`")
        );
    }
}
