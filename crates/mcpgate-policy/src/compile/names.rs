//! Rules selected by name: exact names first, then the most specific glob. Tools
//! and methods select their rules the same way.

use std::collections::HashMap;

use crate::glob::Glob;

/// The rules of one section (`tools` or `methods`) by exact name and by glob.
#[derive(Debug, Default)]
pub(crate) struct Names {
    exact: HashMap<Box<str>, usize>,
    /// In precedence order once [`Names::order`] has run.
    globs: Vec<(Glob, usize)>,
}

impl Names {
    /// Adds the rule at `index` under its key; an invalid key (`None`) selects nothing.
    pub(crate) fn insert(&mut self, key: Option<Glob>, index: usize) {
        match key {
            Some(glob) if glob.is_exact() => {
                self.exact.insert(glob.as_str().into(), index);
            }
            Some(glob) => self.globs.push((glob, index)),
            None => {}
        }
    }

    /// Puts the globs in precedence order (see [`Glob::precedence_key`]).
    pub(crate) fn order(&mut self) {
        self.globs
            .sort_by(|(a, _), (b, _)| a.precedence_key().cmp(&b.precedence_key()));
    }

    /// The index of the rule for `name`: its exact key, else the most specific glob.
    pub(crate) fn find(&self, name: &str) -> Option<usize> {
        self.exact.get(name).copied().or_else(|| {
            self.globs
                .iter()
                .find(|(glob, _)| glob.matches(name))
                .map(|(_, index)| *index)
        })
    }
}

/// Why a `methods` key is refused, if it is: `tools/call` belongs to `tools`.
pub(crate) fn method_key_error(key: &str) -> Option<&'static str> {
    (key == "tools/call").then_some(
        "`tools/call` is decided by the `tools` rules (by tool name), not by `methods`; \
         write the rule under `tools`",
    )
}
