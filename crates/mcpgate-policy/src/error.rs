//! The crate's error: every problem found in a policy document, each with its place.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One problem in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationError {
    /// A JSON Pointer (RFC 6901) to the offending value, e.g. `/tools/k8s_run_pod/limits/0/window`;
    /// empty for the document itself.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// Every problem found in a policy document, in document order. Never empty.
///
/// Serialises as `{"errors": [{"path": ..., "message": ...}, ...]}`, the body of a 422.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ValidationErrors {
    /// The problems.
    pub errors: Vec<ValidationError>,
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid policy ({} error(s))", self.errors.len())?;
        for error in &self.errors {
            let path = if error.path.is_empty() {
                "(document)"
            } else {
                &error.path
            };
            write!(f, "; {path}: {}", error.message)?;
        }
        Ok(())
    }
}

/// Collects errors while a document is read or compiled.
#[derive(Debug, Default)]
pub(crate) struct Errors {
    errors: Vec<ValidationError>,
}

impl Errors {
    pub(crate) fn push(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(ValidationError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(value)` when nothing was collected, else every error.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ValidationErrors {
                errors: self.errors,
            })
        }
    }
}

/// Appends one reference token to a JSON Pointer, escaping `~` and `/` (RFC 6901).
pub(crate) fn pointer(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}
