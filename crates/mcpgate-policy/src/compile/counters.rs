//! The counter table: a counter named in several limits is one budget, so
//! every limit naming it must agree on its window, scope and size.

use std::collections::HashMap;

use crate::document::{Limit, Scope};
use crate::error::Errors;
use crate::span::Span;

/// Where a counter was first declared, and how.
#[derive(Debug)]
struct FirstUse {
    pointer: String,
    window: Span,
    scope: Scope,
    max: u64,
}

/// Counters seen so far in a document.
#[derive(Debug, Default)]
pub(crate) struct CounterTable {
    counters: HashMap<String, FirstUse>,
}

impl CounterTable {
    /// Records a limit at `pointer`; a disagreement with an earlier use is an error here.
    pub(crate) fn register(&mut self, limit: &Limit, pointer: &str, errors: &mut Errors) {
        let name = limit.counter.as_str();
        let Some(first) = self.counters.get(name) else {
            let first = FirstUse {
                pointer: pointer.to_owned(),
                window: limit.window,
                scope: limit.scope,
                max: limit.max,
            };
            self.counters.insert(name.to_owned(), first);
            return;
        };
        let mut disagree = |field: &str, here: String, there: String| {
            let message = format!(
                "counter `{name}` has {field} {here} here but {there} at {}; a counter is one \
                 shared budget, so every limit naming it needs the same window, scope and max \
                 (or use a different counter name)",
                first.pointer
            );
            errors.push(&format!("{pointer}/{field}"), message);
        };
        if first.window != limit.window {
            disagree("window", limit.window.to_string(), first.window.to_string());
        }
        if first.scope != limit.scope {
            disagree(
                "scope",
                limit.scope.as_str().into(),
                first.scope.as_str().into(),
            );
        }
        if first.max != limit.max {
            disagree("max", limit.max.to_string(), first.max.to_string());
        }
    }
}
