//! Tool and method selectors: exact names and globs with `*` (any run) and `?`
//! (one character).

use crate::error::Errors;

/// A tool- or method-name pattern. Without wildcards it is an exact name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    pattern: Box<str>,
    /// Bytes before the first wildcard; the longer, the more specific the glob.
    literal_prefix: usize,
    /// Bytes that are not wildcards.
    literal_total: usize,
}

impl Glob {
    /// Checks a tool or method key or hide entry, recording an error at `path` if it is
    /// not a valid pattern.
    pub(crate) fn parse(pattern: &str, path: &str, errors: &mut Errors) -> Option<Glob> {
        if pattern.is_empty() {
            errors.push(path, "a tool or method name or glob cannot be empty");
            return None;
        }
        if let Some(c) = pattern
            .chars()
            .find(|c| c.is_whitespace() || c.is_control())
        {
            let message = format!(
                "bad name or glob `{pattern}`: it contains {c:?}; tool and method names \
                 match exactly, so whitespace and control characters are never right"
            );
            errors.push(path, message);
            return None;
        }
        if let Some(c) = pattern
            .chars()
            .find(|c| matches!(c, '[' | ']' | '{' | '}' | '\\'))
        {
            let message = format!(
                "bad glob `{pattern}`: `{c}` is not supported; the only wildcards are `*` \
                 (any run of characters) and `?` (one character)"
            );
            errors.push(path, message);
            return None;
        }
        let is_wildcard = |b: &u8| matches!(b, b'*' | b'?');
        let bytes = pattern.as_bytes();
        Some(Glob {
            pattern: pattern.into(),
            literal_prefix: bytes.iter().position(is_wildcard).unwrap_or(bytes.len()),
            literal_total: bytes.iter().filter(|b| !is_wildcard(b)).count(),
        })
    }

    /// Whether the pattern has no wildcard, i.e. is an exact name.
    pub(crate) fn is_exact(&self) -> bool {
        self.literal_prefix == self.pattern.len()
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Ordering key for precedence: longest literal prefix first, then most literal
    /// characters, then the pattern text, so the order never depends on JSON key order.
    pub(crate) fn precedence_key(
        &self,
    ) -> (std::cmp::Reverse<usize>, std::cmp::Reverse<usize>, &str) {
        use std::cmp::Reverse;
        (
            Reverse(self.literal_prefix),
            Reverse(self.literal_total),
            &self.pattern,
        )
    }

    /// Whether `name` matches the pattern exactly (case-sensitive, whole name).
    pub(crate) fn matches(&self, name: &str) -> bool {
        let prefix = &self.pattern.as_bytes()[..self.literal_prefix];
        name.as_bytes().starts_with(prefix)
            && wildcard_match(
                &self.pattern.as_bytes()[self.literal_prefix..],
                &name.as_bytes()[self.literal_prefix..],
            )
    }
}

/// The byte index after the UTF-8 character starting at `index`.
fn next_char(text: &[u8], index: usize) -> usize {
    let mut next = index + 1;
    while next < text.len() && text[next] & 0xC0 == 0x80 {
        next += 1;
    }
    next
}

/// Iterative wildcard matching with single-star backtracking: linear in practice,
/// O(pattern × text) at worst, no allocation and no recursion.
fn wildcard_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut restart: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'*') => {
                restart = Some((p + 1, t));
                p += 1;
            }
            Some(b'?') => {
                p += 1;
                t = next_char(text, t);
            }
            Some(&literal) if literal == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match restart {
                Some((star_p, star_t)) => {
                    let next = next_char(text, star_t);
                    restart = Some((star_p, next));
                    p = star_p;
                    t = next;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::Glob;
    use crate::error::Errors;

    fn glob(pattern: &str) -> Glob {
        Glob::parse(pattern, "", &mut Errors::default()).unwrap()
    }

    #[test]
    fn stars_and_question_marks_match_whole_names() {
        assert!(glob("k8s_delete_*").matches("k8s_delete_pod"));
        assert!(glob("k8s_delete_*").matches("k8s_delete_"));
        assert!(!glob("k8s_delete_*").matches("k8s_get_pod"));
        assert!(glob("*_pod").matches("k8s_run_pod"));
        assert!(!glob("*_pod").matches("k8s_run_pods"));
        assert!(glob("a?c").matches("abc"));
        assert!(glob("a?c").matches("aéc"));
        assert!(!glob("a?c").matches("ac"));
        assert!(glob("*a*b*").matches("xxaxxbxx"));
        assert!(!glob("*a*b*").matches("xxbxxaxx"));
        assert!(glob("*").matches(""));
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        assert!(!glob("send_email").matches("SEND_EMAIL"));
        assert!(!glob("send_email").matches("send_email "));
        assert!(glob("send_email").is_exact());
    }

    #[test]
    fn rejects_unsupported_syntax() {
        for pattern in ["", "a[bc]", "{a,b}", "a\\*", "send email", "tab\t"] {
            let mut errors = Errors::default();
            assert!(
                Glob::parse(pattern, "/tools/x", &mut errors).is_none(),
                "{pattern}"
            );
            assert!(!errors.is_empty());
        }
    }
}
