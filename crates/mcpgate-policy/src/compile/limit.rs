//! Limits, compiled: what a call costs and the charge it produces.

use std::sync::Arc;

use serde_json::Value;

use crate::decision::Charge;
use crate::document::{Limit, Scope};
use crate::error::Errors;
use crate::evaluate::Scopes;
use crate::path::ArgPath;

/// One limit, ready to turn a call into a [`Charge`].
#[derive(Debug)]
pub(crate) struct CompiledLimit {
    pub(crate) counter: Arc<str>,
    pub(crate) scope: Scope,
    pub(crate) window_secs: u64,
    pub(crate) max: u64,
    pub(crate) increment_from: Option<ArgPath>,
    pub(crate) pointer: Arc<str>,
    pub(crate) shadow: bool,
    /// The reason when the `increment_from` amount is missing or unusable.
    pub(crate) bad_amount_reason: Arc<str>,
}

impl CompiledLimit {
    /// Checks and prepares a limit at `pointer`.
    pub(crate) fn compile(
        limit: &Limit,
        pointer: &str,
        shadow: bool,
        errors: &mut Errors,
    ) -> Option<Self> {
        if limit.max == 0 {
            errors.push(
                &format!("{pointer}/max"),
                "`max` must be a whole number of at least 1, got 0",
            );
            return None;
        }
        let increment_from = match &limit.increment_from {
            None => None,
            Some(text) => match ArgPath::parse(text) {
                Ok(path) => Some(path),
                Err(message) => {
                    errors.push(&format!("{pointer}/increment_from"), message);
                    return None;
                }
            },
        };
        let counter = limit.counter.as_str();
        let bad_amount_reason = match &increment_from {
            Some(path) => format!(
                "Argument `{}` must be a number of at least 0: it is the amount charged to \
                 the spend cap '{counter}'.",
                path.as_str()
            ),
            None => String::new(),
        };
        Some(CompiledLimit {
            counter: counter.into(),
            scope: limit.scope,
            window_secs: limit.window.seconds(),
            max: limit.max,
            increment_from,
            pointer: pointer.into(),
            shadow,
            bad_amount_reason: bad_amount_reason.into(),
        })
    }

    /// What this call costs: 1, or the `increment_from` amount rounded up to a whole unit.
    /// `None` when the amount is missing, not a number or negative.
    pub(crate) fn cost(&self, arguments: &Value) -> Option<u64> {
        let Some(path) = &self.increment_from else {
            return Some(1);
        };
        let Value::Number(number) = path.resolve(arguments)? else {
            return None;
        };
        if let Some(whole) = number.as_u64() {
            return Some(whole);
        }
        let amount = number.as_f64()?;
        // `as` saturates: an absurd amount becomes u64::MAX and simply exceeds the cap.
        (amount >= 0.0).then(|| amount.ceil() as u64)
    }

    /// The charge for a call costing `cost`.
    pub(crate) fn charge(&self, call: Scopes<'_>, cost: u64) -> Charge {
        let scope_id = match self.scope {
            Scope::Grant => call.grant_id,
            Scope::Server => call.server_id,
            Scope::Tenant => call.tenant_id,
        };
        let scope = self.scope.as_str();
        let mut key = String::with_capacity(
            10 + call.tenant_id.len() + scope.len() + scope_id.len() + self.counter.len(),
        );
        for part in [
            "rl:{",
            call.tenant_id,
            "}:",
            scope,
            ":",
            scope_id,
            ":",
            &self.counter,
        ] {
            key.push_str(part);
        }
        Charge {
            counter: self.counter.clone(),
            key,
            scope: self.scope,
            window_secs: self.window_secs,
            max: self.max,
            cost,
            spend_cap: self.increment_from.is_some(),
            rule: self.pointer.clone(),
            shadow: self.shadow,
        }
    }
}
