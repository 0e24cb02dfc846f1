//! What the active policy does to each tool, for the tools table: the engine
//! decides a call with empty arguments; a rule that needs arguments is shown as
//! conditional rather than guessed at.

use mcpgate_catalog::Evidence;
use mcpgate_policy::{evaluate, Outcome, ToolCall};
use mcpgate_store::classifications::ClassificationOverride;
use mcpgate_store::servers::Tool;
use mcpgate_store::{ServerId, TenantId};
use serde_json::Value;

use crate::domain::classification::needs_review;
use crate::domain::policies::{classifications, validate};

/// One row of the tools table.
#[derive(Debug, Clone)]
pub(crate) struct ToolRow {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) category: String,
    pub(crate) risk: String,
    pub(crate) evidence: Vec<String>,
    /// A stable key: allowed, denied, limited, needs-approval, conditional.
    pub(crate) status: &'static str,
    /// What a person reads, e.g. "limited: 10 per 60s".
    pub(crate) status_text: String,
    /// The deciding rule's JSON Pointer (or the default marker).
    pub(crate) rule: String,
    pub(crate) changed_since_approval: bool,
    /// The classifier's own verdict, shown beside an override.
    pub(crate) classified_as: String,
    /// `low`, `medium`, `high`, or empty when not assessed yet.
    pub(crate) confidence: String,
    pub(crate) confidence_reasons: Vec<String>,
    /// Review this: low confidence and no override, or a stale override.
    pub(crate) review: bool,
    pub(crate) classification_override: Option<ClassificationOverride>,
}

/// The rows for a server's current tools under `policy` (none: all allowed).
pub(crate) fn tool_rows(
    tenant: TenantId,
    server: ServerId,
    tools: &[Tool],
    policy: Option<&str>,
) -> Vec<ToolRow> {
    let compiled = policy.and_then(|text| validate(text, "").ok());
    let classes = classifications(tools);
    let tenant_id = tenant.to_string();
    let server_id = server.to_string();
    let no_arguments = Value::Object(serde_json::Map::new());
    tools
        .iter()
        .map(|tool| {
            let (status, status_text, rule) = match &compiled {
                None => (
                    "allowed",
                    "allowed (no policy yet)".to_owned(),
                    String::new(),
                ),
                Some(compiled) => {
                    let decision = evaluate(
                        compiled,
                        &ToolCall {
                            tenant_id: &tenant_id,
                            server_id: &server_id,
                            grant_id: "dashboard",
                            tool: &tool.name,
                            classification: classes.get(tool.name.as_str()).copied(),
                            arguments: &no_arguments,
                        },
                    );
                    let rule = decision.rule.to_string();
                    let (status, text) = match decision.decided {
                        Outcome::Deny
                            if rule.contains("/require/") || rule.contains("/deny_if/") =>
                        {
                            ("conditional", "depends on the arguments".to_owned())
                        }
                        Outcome::Deny => ("denied", "denied".to_owned()),
                        Outcome::RequireApproval => ("needs-approval", "needs approval".to_owned()),
                        Outcome::Allow if !decision.charges.is_empty() => {
                            let limits: Vec<String> = decision
                                .charges
                                .iter()
                                .map(|c| format!("{} per {}s", c.max, c.window_secs))
                                .collect();
                            ("limited", format!("limited: {}", limits.join(", ")))
                        }
                        Outcome::Allow => ("allowed", "allowed".to_owned()),
                    };
                    let text = if decision.shadow {
                        format!("{text} (shadow: not enforced)")
                    } else {
                        text
                    };
                    (status, text, rule)
                }
            };
            ToolRow {
                name: tool.name.clone(),
                description: tool.definition["description"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                category: tool.category.clone(),
                risk: tool.risk.clone(),
                evidence: serde_json::from_value::<Vec<Evidence>>(tool.evidence.clone())
                    .map(|items| items.into_iter().map(|e| e.message).collect())
                    .unwrap_or_default(),
                status,
                status_text,
                rule,
                changed_since_approval: tool.approved_fingerprint.as_deref()
                    != Some(tool.fingerprint.as_str()),
                classified_as: format!("{} / {}", tool.classifier_category, tool.classifier_risk),
                confidence: tool.confidence.clone().unwrap_or_default(),
                confidence_reasons: serde_json::from_value(tool.confidence_reasons.clone())
                    .unwrap_or_default(),
                review: needs_review(tool),
                classification_override: tool.classification_override(),
            }
        })
        .collect()
}
