//! The typed policy document: what a policy says, before it is compiled.
//!
//! These types serialise to the JSON the control plane stores and the schema in
//! `docs/policy.schema.json` describes. They are read by [`crate::parse`], which
//! collects every error with its path; serde's own derive would stop at the first.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::classification::{Category, Classification, Risk};
use crate::decision::Outcome;
use crate::settings::Settings;
use crate::span::{CounterName, Span};

/// A whole policy document.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The language version; must be `"1"`.
    pub version: String,
    /// A note for humans; ignored by the engine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What happens to a tool, or a known method, that no rule selects (`allow` when
    /// omitted, as in PolicyLayer).
    #[serde(default, skip_serializing_if = "DefaultAction::is_allow")]
    pub default: DefaultAction,
    /// `enforce` (the default) or `shadow`: decide and audit, but let every call through.
    #[serde(default, skip_serializing_if = "Mode::is_enforce")]
    pub mode: Mode,
    /// Tools removed from `tools/list` and denied at call time.
    #[serde(default, skip_serializing_if = "Hide::is_empty")]
    pub hide: Hide,
    /// Limits charged on every allowed call, whatever the tool.
    #[serde(default, skip_serializing_if = "AllTools::is_empty")]
    pub all_tools: AllTools,
    /// Rules by tool name or glob (`*`, `?`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tools: BTreeMap<String, Rule>,
    /// Rules for tools selected by their classification, first match wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<ClassRule>,
    /// Rules for MCP methods other than `tools/call` (`resources/read`, `prompts/get`,
    /// ...), by exact method name or glob; conditions and `increment_from` read the
    /// request's `params` as `args`. A known method no key selects follows `default`;
    /// an unknown one is denied.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub methods: BTreeMap<String, Rule>,
    /// Declared cases that must hold for the policy to be accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCase>,
    /// What the proxy does around decisions.
    #[serde(default, skip_serializing_if = "Settings::is_default")]
    pub settings: Settings,
}

/// The posture for tools (and known methods) that no rule selects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DefaultAction {
    /// Unselected tools are allowed.
    #[default]
    Allow,
    /// Unselected tools are denied (and hidden from `tools/list`).
    Deny,
}

/// Whether a rule's decisions are enforced or only reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Decisions are enforced.
    #[default]
    Enforce,
    /// Decisions are reported for audit; the call goes through.
    Shadow,
}

/// What a rule does with a call whose conditions hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Let the call through (after conditions and limits).
    #[default]
    Allow,
    /// Refuse the call.
    Deny,
    /// Hold the call until a human approves it.
    RequireApproval,
}

/// The `hide` list: every tool, or some tools by name or glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hide {
    /// `"*"`: every tool is hidden.
    All,
    /// These names or globs are hidden (an entry `"*"` hides every tool).
    Tools(Vec<String>),
}

/// Rules that apply to every call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllTools {
    /// Limits charged on every allowed call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<Limit>,
}

/// What to do with the calls a selector picks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `allow` (the default), `deny` or `require_approval`.
    #[serde(default, skip_serializing_if = "Action::is_allow")]
    pub action: Action,
    /// The sentence returned to the agent when this rule blocks (alias: `on_deny`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Overrides the policy's mode for this rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Conditions that must all hold, or the call is denied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<Condition>,
    /// Conditions of which any denies the call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_if: Vec<Condition>,
    /// Counters this rule charges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<Limit>,
}

/// A rule for tools selected by classification.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ClassRule {
    /// Which classifications this rule applies to.
    #[serde(rename = "match")]
    pub selector: ClassMatch,
    /// The rule itself.
    #[serde(flatten)]
    pub rule: Rule,
}

/// A classification selector; every field given must match, and one must be given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassMatch {
    /// The tool's category equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// The tool's risk equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    /// The tool's risk is this or higher.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_at_least: Option<Risk>,
}

/// A test on one argument of a `tools/call`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Where the argument is: `args`, then `.key` or `.index` steps (`args.spec.containers.0.image`).
    pub path: String,
    /// The comparison.
    pub op: Op,
    /// The operand; required by every operator except `exists` (where it defaults to `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The sentence returned to the agent when this condition blocks (alias: `on_deny`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the argument may be left out: when it is absent the condition is
    /// skipped (a `require` is met, a `deny_if` does not deny). `false` when omitted,
    /// so an absent argument denies. A value of the wrong type denies either way.
    /// Not allowed with `exists`, which tests presence itself.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// A condition's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal (numbers compare by value: `1` equals `1.0`).
    Eq,
    /// Not equal.
    Neq,
    /// Equal to one of the values in the array.
    In,
    /// Equal to none of the values in the array.
    NotIn,
    /// A number below the value.
    Lt,
    /// A number at most the value.
    Lte,
    /// A number above the value.
    Gt,
    /// A number at least the value.
    Gte,
    /// A string the regular expression matches anywhere (anchor with `^…$`).
    Regex,
    /// A string containing the value, or an array with an element equal to it.
    Contains,
    /// The argument is present (`value: true`, the default) or absent (`value: false`).
    Exists,
    /// A string starting with the value.
    Prefix,
    /// A string of at most this many characters, or an array or object of at most this many entries.
    MaxLength,
}

/// A counter a rule charges.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// The counter's name; rules naming the same counter share one budget.
    pub counter: CounterName,
    /// The fixed window the budget resets on.
    pub window: Span,
    /// The budget per window, at least 1.
    #[schemars(range(min = 1))]
    pub max: u64,
    /// Whose calls share the count (`grant` when omitted).
    #[serde(default, skip_serializing_if = "Scope::is_grant")]
    pub scope: Scope,
    /// Charge this argument's amount instead of 1 (a spend cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increment_from: Option<String>,
}

/// Whose calls share a counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One count per grant (one agent credential).
    #[default]
    Grant,
    /// One count per upstream MCP server, across the tenant's grants.
    Server,
    /// One count for the whole tenant.
    Tenant,
}

/// A declared case: this call must get this outcome.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// A name for error messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The call.
    pub call: TestCall,
    /// The outcome the policy must decide (before shadow mode lets it through).
    pub expect: Outcome,
}

/// The call of a [`TestCase`]: a `tools/call`, or a request for another method.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TestCall {
    /// `{"tool": ..., "arguments"?: ..., "classification"?: ...}`.
    Tool(ToolTestCall),
    /// `{"method": ..., "params"?: ..., "known"?: ...}`.
    Method(MethodTestCall),
}

/// A declared test's `tools/call`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolTestCall {
    /// The tool's name.
    pub tool: String,
    /// The call's arguments (`{}` when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Value>,
    /// The tool's classification, for classification selectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<Classification>,
}

/// A declared test's request for a method other than `tools/call`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodTestCall {
    /// The method, e.g. `resources/read`.
    pub method: String,
    /// The request's `params` (`{}` when omitted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    /// Whether the proxy knows the method as a governed MCP method (`true` when
    /// omitted); an unknown method that no `methods` key selects is denied.
    #[serde(default = "support::yes", skip_serializing_if = "support::is_yes")]
    pub known: bool,
}

mod support;
