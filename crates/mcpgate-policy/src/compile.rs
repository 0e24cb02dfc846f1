//! Compiling a [`Policy`] once into a [`CompiledPolicy`]: regexes built, globs
//! ordered by precedence, pointers and reasons prepared, so evaluation only reads.

mod counters;
mod limit;
mod names;

use std::collections::HashMap;
use std::sync::Arc;

pub(crate) use counters::CounterTable;
pub(crate) use limit::CompiledLimit;
pub(crate) use names::{method_key_error, Names};

use crate::condition::CompiledCondition;
use crate::document::{Action, ClassMatch, DefaultAction, Hide, Mode, Policy, Rule};
use crate::error::{pointer, Errors, ValidationErrors};
use crate::glob::Glob;
use crate::settings::Settings;

/// A policy ready to evaluate. Immutable, `Send + Sync`; share it with `Arc`.
#[derive(Debug)]
pub struct CompiledPolicy {
    pub(crate) default: DefaultAction,
    pub(crate) shadow: bool,
    pub(crate) hide: HideSet,
    /// Tool rules by name and glob: indexes into `rules`.
    pub(crate) tools: Names,
    pub(crate) classes: Vec<(ClassMatch, usize)>,
    /// Method rules by name and glob: indexes into `rules`.
    pub(crate) methods: Names,
    pub(crate) rules: Vec<CompiledRule>,
    pub(crate) all_tools: Vec<CompiledLimit>,
    pub(crate) settings: Settings,
    pub(crate) default_rule: Arc<str>,
    pub(crate) default_reason: Arc<str>,
    pub(crate) hidden_reason: Arc<str>,
}

/// The hidden tools, each with the pointer of its `hide` entry.
#[derive(Debug, Default)]
pub(crate) struct HideSet {
    pub(crate) all: Option<Arc<str>>,
    pub(crate) exact: HashMap<Box<str>, Arc<str>>,
    pub(crate) globs: Vec<(Glob, Arc<str>)>,
}

/// One rule, compiled.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) pointer: Arc<str>,
    pub(crate) action: Action,
    pub(crate) reason: Arc<str>,
    pub(crate) shadow: bool,
    pub(crate) require: Vec<CompiledCondition>,
    pub(crate) deny_if: Vec<CompiledCondition>,
    pub(crate) limits: Vec<CompiledLimit>,
}

impl CompiledPolicy {
    /// The proxy settings the policy chose.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

/// Checks and compiles a policy, then runs its declared tests; any failure is an error.
///
/// [`crate::parse`] already does this to accept a document; compile again (it is
/// cheap) to get the evaluable form, or to check a `Policy` built in code.
pub fn compile(policy: &Policy) -> Result<CompiledPolicy, ValidationErrors> {
    let mut errors = Errors::default();
    if policy.version != "1" {
        let message = format!("unsupported version {:?}; expected \"1\"", policy.version);
        errors.push("/version", message);
    }
    let shadow = policy.mode == Mode::Shadow;
    let mut counters = CounterTable::default();
    let all_tools = compile_limits(
        &policy.all_tools.limits,
        "/all_tools",
        shadow,
        &mut counters,
        &mut errors,
    );
    let mut compiled = CompiledPolicy {
        default: policy.default,
        shadow,
        hide: compile_hide(&policy.hide, &mut errors),
        tools: Names::default(),
        classes: Vec::new(),
        methods: Names::default(),
        rules: Vec::new(),
        all_tools,
        settings: policy.settings,
        default_rule: match policy.default {
            DefaultAction::Allow => "(default allow)".into(),
            DefaultAction::Deny => "(default deny)".into(),
        },
        default_reason: "This tool is not allowed by policy (default deny).".into(),
        hidden_reason: "This tool is not available (hidden by policy).".into(),
    };
    for (name, rule) in &policy.tools {
        let at = pointer("/tools", name);
        let glob = Glob::parse(name, &at, &mut errors);
        let rule = compile_rule(rule, &at, Subject::Tool, shadow, &mut counters, &mut errors);
        compiled.tools.insert(glob, compiled.rules.len());
        compiled.rules.push(rule);
    }
    compiled.tools.order();
    for (position, class) in policy.classes.iter().enumerate() {
        let at = format!("/classes/{position}");
        let selector = class.selector;
        if selector.category.is_none()
            && selector.risk.is_none()
            && selector.risk_at_least.is_none()
        {
            let message = "a selector needs at least one of: category, risk, risk_at_least";
            errors.push(&format!("{at}/match"), message);
        }
        let rule = compile_rule(
            &class.rule,
            &at,
            Subject::Tool,
            shadow,
            &mut counters,
            &mut errors,
        );
        compiled.classes.push((selector, compiled.rules.len()));
        compiled.rules.push(rule);
    }
    for (name, rule) in &policy.methods {
        let at = pointer("/methods", name);
        if let Some(message) = method_key_error(name) {
            errors.push(&at, message);
        }
        let glob = Glob::parse(name, &at, &mut errors);
        let rule = compile_rule(
            rule,
            &at,
            Subject::Method,
            shadow,
            &mut counters,
            &mut errors,
        );
        compiled.methods.insert(glob, compiled.rules.len());
        compiled.rules.push(rule);
    }
    compiled.methods.order();
    if errors.is_empty() {
        crate::simulate::run_declared_tests(&compiled, &policy.tests, &mut errors);
    }
    errors.finish(compiled)
}

fn compile_hide(hide: &Hide, errors: &mut Errors) -> HideSet {
    let mut set = HideSet::default();
    let Hide::Tools(names) = hide else {
        set.all = Some("/hide".into());
        return set;
    };
    for (index, name) in names.iter().enumerate() {
        let at: Arc<str> = format!("/hide/{index}").into();
        match Glob::parse(name, &at, errors) {
            Some(glob) if glob.as_str() == "*" => set.all = set.all.take().or(Some(at)),
            Some(glob) if glob.is_exact() => {
                set.exact.entry(name.as_str().into()).or_insert(at);
            }
            Some(glob) => set.globs.push((glob, at)),
            None => {}
        }
    }
    set
}

/// What a rule decides about, for its default reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Tool,
    Method,
}

fn compile_rule(
    rule: &Rule,
    at: &str,
    subject: Subject,
    policy_shadow: bool,
    counters: &mut CounterTable,
    errors: &mut Errors,
) -> CompiledRule {
    let shadow = rule.mode.map_or(policy_shadow, |mode| mode == Mode::Shadow);
    let conditions = |field: &str, list: &[crate::document::Condition], errors: &mut Errors| {
        list.iter()
            .enumerate()
            .filter_map(|(i, c)| {
                CompiledCondition::compile(c, &format!("{at}/{field}/{i}"), errors)
            })
            .collect()
    };
    let default_reason = match (rule.action, subject) {
        (Action::RequireApproval, _) => "This call requires human approval.",
        (Action::Allow | Action::Deny, Subject::Tool) => "This tool is denied by policy.",
        (Action::Allow | Action::Deny, Subject::Method) => "This method is denied by policy.",
    };
    CompiledRule {
        pointer: at.into(),
        action: rule.action,
        reason: rule.reason.as_deref().unwrap_or(default_reason).into(),
        shadow,
        require: conditions("require", &rule.require, errors),
        deny_if: conditions("deny_if", &rule.deny_if, errors),
        limits: compile_limits(&rule.limits, at, shadow, counters, errors),
    }
}

fn compile_limits(
    limits: &[crate::document::Limit],
    at: &str,
    shadow: bool,
    counters: &mut CounterTable,
    errors: &mut Errors,
) -> Vec<CompiledLimit> {
    let mut compiled = Vec::with_capacity(limits.len());
    for (index, limit) in limits.iter().enumerate() {
        let limit_at = format!("{at}/limits/{index}");
        counters.register(limit, &limit_at, errors);
        if let Some(limit) = CompiledLimit::compile(limit, &limit_at, shadow, errors) {
            compiled.push(limit);
        }
    }
    compiled
}
