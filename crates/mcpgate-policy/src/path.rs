//! Argument paths: `args`, then `.key` or `.index` steps, resolved against a
//! call's arguments without allocating.

use serde_json::Value;

/// One step of an [`ArgPath`]: an object key, which is also an array index when numeric.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    key: Box<str>,
    index: Option<usize>,
}

/// A compiled argument path such as `args.spec.containers.0.image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArgPath {
    text: Box<str>,
    steps: Box<[Step]>,
}

impl ArgPath {
    /// Reads a path; the error says what a path looks like.
    pub(crate) fn parse(text: &str) -> Result<ArgPath, String> {
        let invalid = || {
            format!(
                "invalid argument path `{text}`: expected `args` followed by `.name` or \
                 `.index` steps, e.g. `args.image` or `args.spec.containers.0.image`"
            )
        };
        let mut parts = text.split('.');
        if parts.next() != Some("args") {
            return Err(invalid());
        }
        let steps = parts
            .map(|part| {
                if part.is_empty() {
                    return Err(invalid());
                }
                let numeric = part.bytes().all(|b| b.is_ascii_digit());
                Ok(Step {
                    key: part.into(),
                    index: numeric.then(|| part.parse().ok()).flatten(),
                })
            })
            .collect::<Result<Box<[Step]>, String>>()?;
        Ok(ArgPath {
            text: text.into(),
            steps,
        })
    }

    /// The path as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path in `arguments`, if there is one.
    pub(crate) fn resolve<'v>(&self, arguments: &'v Value) -> Option<&'v Value> {
        self.steps
            .iter()
            .try_fold(arguments, |value, step| match value {
                Value::Object(map) => map.get(&*step.key),
                Value::Array(items) => step.index.and_then(|index| items.get(index)),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::ArgPath;
    use serde_json::json;

    #[test]
    fn resolves_nested_objects_and_arrays() {
        let args = json!({"spec": {"containers": [{"image": "a"}, {"image": "b"}]}});
        let path = ArgPath::parse("args.spec.containers.1.image").unwrap();
        assert_eq!(path.resolve(&args), Some(&json!("b")));
        let root = ArgPath::parse("args").unwrap();
        assert_eq!(root.resolve(&args), Some(&args));
    }

    #[test]
    fn numeric_steps_are_keys_on_objects() {
        let args = json!({"0": "zero"});
        let path = ArgPath::parse("args.0").unwrap();
        assert_eq!(path.resolve(&args), Some(&json!("zero")));
    }

    #[test]
    fn missing_steps_resolve_to_nothing() {
        let args = json!({"a": [1]});
        for text in ["args.b", "args.a.1", "args.a.x", "args.a.0.deep"] {
            assert_eq!(ArgPath::parse(text).unwrap().resolve(&args), None, "{text}");
        }
    }

    #[test]
    fn rejects_paths_outside_args_and_empty_steps() {
        for text in ["", "arguments.x", "args.", "args..x", "x.args", ".args"] {
            assert!(ArgPath::parse(text).is_err(), "{text}");
        }
    }
}
